#!/bin/sh
# libvirt-xml.sh - the domain XML the libvirt backend makes is valid for
# libvirt (virt-xml-validate, libvirt's own RELAX NG schemas), and a real
# XML parser reads back exactly the values that went in (xmllint): the
# command line above all, which is free text.  test-libvirt-xml -o writes
# the XML of its golden cases (tests/data/libvirt/) into a directory.
. "$top_srcdir/tests/lib.sh"

GEN=$top_builddir/tests/unit/test-libvirt-xml
[ -x "$GEN" ] || skip_all "tests/unit/test-libvirt-xml not built:" \
	"configure found no libvirt (install libvirt-dev)"
command -v virt-xml-validate >/dev/null ||
	skip_all "virt-xml-validate not installed (libvirt-clients)"

mkdir "$TMP/xml" || exit 1
ok "test-libvirt-xml -o writes the XML of its cases" \
    "$GEN" -o "$TMP/xml"

n=0
for f in "$TMP/xml"/*.xml; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	ok "$(basename "$f"): virt-xml-validate" virt-xml-validate "$f" domain
done
ok "at least three cases" [ "$n" -ge 3 ]

if command -v xmllint >/dev/null; then
	f=$TMP/xml/escape.xml
	x() { xmllint --xpath "$1" "$f"; }
	want=$(printf '%s caf\303\251 \360\237\220\247' \
	    'msg="<b>Tom & Jerry'"'"'s</b>" x=a>b ]]>')
	is "escape: the command line reads back exactly" \
	    "$(x 'string(/domain/os/cmdline)')" "$want"
	is "escape: the console path reads back exactly" \
	    "$(x 'string(/domain/devices/serial/source/@path)')" \
	    "/srv/it's \"here\"/console&.log"
	is "escape: the kernel path reads back exactly" \
	    "$(x 'string(/domain/os/kernel)')" "/srv/a&b/<k>.elf"
	meta="/domain/metadata/*[local-name()='instance']"
	is "escape: our metadata names the console log" \
	    "$(x "string($meta/@console)")" "/srv/it's \"here\"/console&.log"
	f=$TMP/xml/hello.xml
	is "hello: the UUID is the instance id's" \
	    "$(x 'string(/domain/uuid)')" "01234567-89ab-cdef-0123-456789abcdef"
	is "hello: no graphics, video, USB controller or balloon" \
	    "$(x 'count(//graphics|//video|//controller[@model!="none"]|
	    //memballoon[@model!="none"])')" 0
else
	diag "xmllint not installed: values not read back"
fi
done_testing
