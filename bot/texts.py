"""Customer- and staff-facing German texts, in one place so that wording is edited
here and reviewed as a whole.

Placeholders in braces are filled with ``str.format``; values from customers are
escaped by the front end, never here.
"""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, "…" marking the cut (labels, lists)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Related questions under an answer.
RELATED_INTRO = "Passt nicht? Vielleicht:"

DEFAULT_CONTACT_TEXT = (
    "Gern hilft Ihnen unser Team auch persönlich weiter: "
    "Nutzen Sie dazu bitte das Kontaktformular auf unserer Website."
)
"""CONTACT_TEXT's default: how customers reach a human when the bot cannot help."""

# Telegram: commands, notices.
WELCOME = (
    "Guten Tag! Ich beantworte Ihre Fragen rund um Websites, Online-Marketing,"
    " Social Media und Ihren guten Ruf im Netz."
)
HOW_TO_ASK = (
    "Schreiben Sie Ihre Frage einfach in eigenen Worten, zum Beispiel:"
    " „Wie werde ich Spam-Kommentare los?“ Mit /themen sehen Sie alle Themen."
)
HELP_TEXTS = (
    "So nutzen Sie mich:",
    "• Im Privatchat: Schreiben Sie Ihre Frage als Nachricht. Bin ich unsicher,"
    " schlage ich passende Fragen vor.",
    "• /themen zeigt alle Themen zum Durchblättern.",
    "• In Gruppen antworte ich, wenn Sie mich mit @{username} erwähnen, auf eine meiner"
    " Nachrichten antworten oder /frage gefolgt von Ihrer Frage schreiben.",
    "• In jedem Chat: Tippen Sie @{username} und Ihre Frage, um eine Antwort direkt zu teilen.",
)
NOT_TEXT = (
    "Ich kann leider nur Textnachrichten beantworten. Bitte schreiben Sie Ihre Frage als Text."
)
APOLOGY = "Entschuldigung, da ist etwas schiefgegangen. Bitte versuchen Sie es gleich noch einmal."
FLOOD_NOTICE = (
    "Sie senden gerade sehr viele Nachrichten. Ich mache eine Minute Pause und"
    " beantworte danach gern wieder Ihre Fragen."
)
NOT_YOUR_BUTTONS = "Diese Knöpfe gehören zur Frage einer anderen Person. Fragen Sie gern selbst!"
UNKNOWN_ENTRY = "Diesen Eintrag gibt es leider nicht (mehr). Hier sind alle Themen:"
OVERVIEW = "Ich kenne {count} Antworten zu: {categories}."
ADMIN_ONLY = "Dieser Befehl ist nur für Administratoren verfügbar."
STATS_IN_MEMORY = (
    "Nur seit dem Start am {since} (ANALYTICS=false: nichts wird dauerhaft gespeichert)."
)
STATS_UNAVAILABLE = (
    "Die Statistik kann gerade nicht gelesen werden. Die Antworten laufen weiter;"
    " bitte versuchen Sie /stats gleich noch einmal."
)
STATS_STORE_FAILING = "Der Analysespeicher ist gestört seit {since}; {lost} Ereignisse verloren."
STATS_LAST_READ = "Zuletzt gelesen am {at}:"
FEEDBACK_THANKS = "Danke für Ihr Feedback!"
NOT_HELPFUL_FOLLOW_UP = (
    "Schade, dass die Antwort nicht geholfen hat. Mit /themen finden Sie weitere Fragen. {contact}"
)
READ_WHOLE_ANSWER = "Ganze Antwort lesen"

# Replies to questions.
SUGGEST_INTRO = "Meinten Sie eine dieser Fragen?"
NO_ANSWER = "Dazu habe ich leider keine passende Antwort gefunden."
NO_ANSWER_TIPS = (
    "Formulieren Sie Ihre Frage gern mit anderen Worten oder nennen Sie das "
    "Thema in einem Stichwort. Mit /themen sehen Sie alle Themen."
)
NO_ANSWER_CLOSEST = "Vielleicht hilft Ihnen eines dieser Themen:"
EMPTY_QUESTION = (
    "Ich habe darin keine Frage erkannt. Bitte schreiben Sie Ihre Frage "
    "als Text, zum Beispiel: „Was ist DNSSEC?“"
)
NONE_OF_THESE = "Schade, dass nichts Passendes dabei war."

# Browsing the topics.
TOPICS_INTRO = "Zu diesen Themen kann ich Ihnen Auskunft geben:"
CATEGORY_INTRO = "Wählen Sie eine Frage:"
STALE_MENU = "Dieses Menü ist nicht mehr aktuell. Hier ist die aktuelle Übersicht."
ENTRY_GONE = "Dieser Eintrag ist nicht mehr verfügbar."

# Buttons.
ALL_TOPICS = "Alle Themen"
HELPFUL_BUTTON = "👍 Hilfreich"
NOT_HELPFUL_BUTTON = "👎 Nicht hilfreich"
BACK_BUTTON = "« Zurück"
BACK_TO_TOPICS_BUTTON = "« Zurück zu den Themen"
NONE_OF_THESE_BUTTON = "Keine davon"
TEAM_BUTTON = "Frage an unser Team senden"
TEAM_CONFIRM_BUTTON = "Ja, senden"
TEAM_CANCEL_BUTTON = "Abbrechen"

# The handoff, for the customer.
TEAM_OFFER = "Sie können Ihre Frage auch direkt an unser Team senden."
TEAM_PREVIEW = "Das senden wir an unser Team:"
TEAM_PREVIEW_FIELDS = ("Ihre Frage: {question}", "Ihr Vorname: {first_name}")
TEAM_PRIVACY = (
    "Damit wir Ihnen hier antworten können, speichern wir die Verbindung zu diesem Chat, bis"
    " die Antwort da ist, höchstens {days} Tage. Möchten Sie die Frage senden?"
)
TEAM_SENT = (
    "Danke! Ihre Frage ist bei unserem Team (Nummer {reference}). Sie bekommen die Antwort"
    " hier im Chat, meist innerhalb eines Werktags."
)
TEAM_ALREADY_SENT = "Ihre Frage ist bereits bei unserem Team (Nummer {reference})."
TEAM_CANCELLED = "In Ordnung, ich habe nichts gesendet."
TEAM_EXPIRED = "Diese Anfrage ist nicht mehr verfügbar. Bitte schreiben Sie Ihre Frage noch einmal."
TEAM_UNAVAILABLE = "Ihre Frage konnte ich gerade leider nicht an unser Team weitergeben."
TEAM_ANSWER_INTRO = "Antwort von unserem Team auf Ihre Frage „{question}“:"
TEAM_ANSWER_OUTRO = "Antworten Sie einfach auf diese Nachricht, wenn Sie noch etwas wissen möchten."
TEAM_FOLLOW_UP_SENT = "Danke! Ich habe Ihre Nachricht an unser Team weitergegeben."

# The handoff, in the staff group.
STAFF_NEW = "❓ Neue Frage von {first_name} ({reference})"
STAFF_FOLLOW_UP = "↩️ Nachfrage von {first_name} ({reference})"
STAFF_GUESSES = "Vermutungen des Bots:"
STAFF_NO_GUESSES = "Der Bot hatte keine Vermutung."
STAFF_HOW_TO_ANSWER = "Zum Antworten auf diese Nachricht antworten („Antworten“)."
STAFF_DELIVERED = "✅ Antwort an {first_name} zugestellt ({reference})."
STAFF_BLOCKED = (
    "⚠️ Die Antwort konnte nicht zugestellt werden: {first_name} hat den Bot blockiert"
    " ({reference}). Die Anfrage bleibt offen, bis sie nach {days} Tagen gelöscht wird."
)
STAFF_NOT_DELIVERED = (
    "⚠️ Telegram hat die Antwort an {first_name} ({reference}) zu lange nicht angenommen"
    " (Störung oder Sendepause), sie ist nicht zugestellt. Bitte senden Sie sie später"
    " noch einmal als Antwort auf die Anfrage."
)
STAFF_UNKNOWN = (
    "Zu dieser Nachricht kenne ich keine offene Anfrage. Bitte antworten Sie direkt auf die"
    " Nachricht mit der Kundenfrage."
)
STAFF_CLOSED = (
    "Anfrage {reference} ist bereits abgeschlossen; die Verbindung zum Chat der Kundin oder des"
    " Kunden ist aus Datenschutzgründen gelöscht. Die Antwort wurde nicht zugestellt."
)
STAFF_STORE_DOWN = (
    "Die Anfragen sind gerade nicht lesbar (Datenbank im Datenordner). Bitte versuchen Sie es"
    " gleich noch einmal; die Admins sehen die Ursache im Log."
)
STAFF_EMPTY_REPLY = "Bitte antworten Sie mit Text; Bilder und Dateien kann ich nicht weitergeben."
STAFF_NOT_SET_UP = "Die Weitergabe an das Team ist nicht eingerichtet (STAFF_CHAT_ID fehlt)."
OPEN_NONE = "Keine offenen Anfragen."
OPEN_HEADER = "Offene Anfragen ({count}), älteste zuerst:"
OPEN_LINE = "{reference} · {asked} · {first_name}: „{question}“"
ADMIN_STAFF_UNREACHABLE = (
    "⚠️ Ich kann nicht in die Team-Gruppe (STAFF_CHAT_ID {chat_id}) schreiben: {reason}."
    " Bitte fügen Sie mich der Gruppe wieder hinzu. Bis dahin verweise ich Kunden auf den"
    " Kontakttext."
)
ADMIN_STAFF_REMOVED = "aus der Gruppe entfernt"


# Both front ends.
LINKS_HEADING = "Mehr dazu:"

# Telegram's command menu.
COMMAND_MENU = (
    ("start", "Begrüßung und Überblick"),
    ("themen", "Alle Themen durchblättern"),
    ("frage", "Eine Frage stellen (auch in Gruppen)"),
    ("help", "So funktioniert der Bot"),
)

# The terminal chat.
TERMINAL_GREETING = (
    "Willkommen! Stellen Sie Ihre Frage, zum Beispiel „Was ist DNSSEC?“.\n"
    "„themen“ zeigt alle Themen, eine Zahl wählt eine Auswahl, „ende“ beendet das Gespräch."
)
TERMINAL_FAREWELL = "Auf Wiedersehen!"
