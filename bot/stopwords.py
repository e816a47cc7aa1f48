"""Words that must never carry a match: German function words, chat filler, greetings.

A customer wraps a question in "Hallo, ich hab da mal ne Frage: ... danke!"; none of
those words says what the question is about. Question words (was, wie, warum, what)
are too, in a block of their own: "Was ist X und wozu dient es?" must match on X, not
on its shape. A few English function words are included so that "what is dnssec"
matches on "dnssec".
"""

from __future__ import annotations

# Listed as people write them; bot.text folds them (case, umlauts, ß) before use.

_GERMAN_FUNCTION_WORDS = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes anders auch auf aus bei beim bin bis bist da dabei dadurch dafür dagegen daher
dahin damals damit danach daneben dann daran darauf daraus darf darfst darin darum
darunter darüber das dass dasselbe davon davor dazu dein deine deinem deinen deiner
deines dem demselben den denn denselben der derer derselbe derselben des deshalb
desselben dessen dich die dies diese dieselbe dieselben diesem diesen dieser dieses
dir doch dort du durch dürfen ein eine einem einen einer eines einig einige einigem
einigen einiger einiges einmal er es etwa etwas euch euer eure eurem euren eurer eures
für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen
ihr ihre ihrem ihren ihrer ihres im in indem ins ist ja jede jedem jeden jeder jedes
jene jenem jenen jener jenes jetzt kann kannst können könnt könnte könnten man manche
manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit
möchte möchten nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem
seinen seiner seines selbst sich sie sind so solche solchem solchen solcher solches
sondern sonst soweit über um und uns unser unsere unserem unseren unserer unseres
unter viel vom von vor während war waren warst weg weil weiter wenn werde werden
werdet wieder will wir wird wirst wollen wollte würde würden zu zum zur zwar zwischen
geht gehen gibt es sei seid wäre wären bzw usw etc ca evtl z b zb
wurde wurden worden wird kein keine keinen keiner keines keinem fürs übers ans aufs
ums durchs hinters unters vors sollte sollten soll sollen sollst solltet mehr beim
dafür hätte hätten habt hast seit bereits schon immer oft nie denen deren irgendein
"""

_CHAT_FILLER = """
hallo hi hey moin servus grüezi tag guten morgen abend abends gruss grüsse gruß grüße
liebe lieber liebes sehr geehrte geehrter damen herren leute
bitte danke dank vielen vielmals besten lg vg mfg freundlichen
frage fragen kurze kurz mal ne nen nem ner nix nich net halt eben eigentlich irgendwie
irgendwas irgendwo vielleicht einfach genau gerade grad schon ganz echt wirklich
eine ahnung weiss weiß wissen gerne gern wüsste wuesste möchte mochte hätte haette
hätten haetten bräuchte info infos information informationen erklären erklärt
sagen sag sagt mir uns bitteschön ok okay also äh ähm hm hmm super toll
ihr euer euch erkläre erklärung helfen hilfe könntet koennt koenntet
"""

_LIGHT_VERBS = """
dient dienen bedeutet bedeuten bringt bringen bringe macht machen mache gemacht tun tue tut getan
funktioniert funktionieren klappt klappen läuft laufen gehts klar sinnvoll
bekomme bekommen bekommt bekomm kriege kriegen kriegt krieg geben gegeben
"""

_ENGLISH_FUNCTION_WORDS = """
a an the is are were be been am do does did i me my we our you your it its of to in
on for with and or not can could should would will please hello hi thanks thank about
this that there
have has had use using get make need want know much many some any if so than
they them their from as at by up out into more most very also just like
"""

QUESTION_WORDS_TEXT = """
was wie wo wer wen wem wessen welch welche welchem welchen welcher welches warum wieso
weshalb wozu wofür woran worauf wodurch womit wann woher wohin wieviel wieviele
how what why when where which who whom whose
"""
"""Interrogatives, German and English. They never carry a match either, but they tell
a question ("Warum WordPress?") from a bare keyword ("wordpress")."""

STOPWORD_BLOCKS: tuple[str, ...] = (
    QUESTION_WORDS_TEXT,
    _GERMAN_FUNCTION_WORDS,
    _CHAT_FILLER,
    _LIGHT_VERBS,
    _ENGLISH_FUNCTION_WORDS,
)
