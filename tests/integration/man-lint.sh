#!/bin/sh
# The manuals: mandoc -Tlint accepts them (warnings count), and uk(1)
# documents exactly the options each command's --help lists, both ways.
. "$top_srcdir/tests/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip_all "mandoc is not installed"
for page in uk.1 uk-feed.5 uk-image.5 unikerneld.8 unikerneld.conf.5; do
	ok "mandoc -Tlint $page" sh -c \
		"out=\$(mandoc -Tlint -Wwarning '$top_srcdir/man/$page' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
done

for cmd in keygen sign verify pack inspect publish "feed verify" select \
    run ps logs stop start restart rm "feed add" "feed ls" "feed refresh" \
    "trust add" "trust ls" "trust rm" "image ls" "image rm" "image prune"; do
	$UK $cmd --help >"$TMP/help" 2>&1
	ok "uk.1 matches 'uk $cmd --help'" python3 - "$top_srcdir/man/uk.1" "$cmd" "$TMP/help" <<'PY'
import re, sys
man, cmd, helpfile = sys.argv[1], sys.argv[2], sys.argv[3]
src = open(man).read()
sections = re.split(r'^\.Ss ', src, flags=re.M)
sec = [s for s in sections if s.split('\n', 1)[0].strip() == cmd]
if not sec:
    sys.exit("no .Ss %s in uk.1" % cmd)
sec = sec[0].split('\n.Sh ', 1)[0]
# options the manual documents: ".It Fl x" and ".It Fl x , Fl -long"
man_opts = set()
for line in sec.splitlines():
    if line.startswith('.It Fl'):
        man_opts.update('-' + f for f in re.findall(r'Fl (-?[\w-]+)', line))
help_opts = set()
for line in open(helpfile):
    m = re.match(r'\s+(-[\w-]+(?:,\s*--[\w-]+)?)', line)
    if m:
        help_opts.update(o.strip() for o in m.group(1).split(','))
help_opts -= {'-h', '--help'}
missing = help_opts - man_opts
extra = man_opts - help_opts
if missing or extra:
    sys.exit("in --help, not uk.1: %s; in uk.1, not --help: %s"
             % (sorted(missing), sorted(extra)))
PY
done
done_testing
