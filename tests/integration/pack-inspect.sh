#!/bin/sh
# pack-inspect.sh - `uk pack` the floor kernel, with and without an initrd;
# the output is deterministic, tar lists it, `uk inspect` reports it.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
[ -f "$FLOOR_ELF" ] || skip_all "floor kernel not built"

cd "$TMP" || exit 1

# json FILE EXPR: evaluates a Python expression over the JSON in FILE (as j).
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
fsize() { wc -c <"$1" | tr -d ' '; }

ok "pack the floor kernel" \
	$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 -o floor.ukimg
$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 -o floor.ukimg \
	>pack.out 2>&1
is "pack prints the path" "$(sed -n 's/^path *//p' pack.out)" floor.ukimg
is "pack prints the size" "$(sed -n 's/^size *//p' pack.out)" \
	"$(fsize floor.ukimg)"
is "pack prints the sha256" "$(sed -n 's/^sha256 *//p' pack.out)" \
	"$(sha floor.ukimg)"
is "image mode is 0644" "$(stat -c %a floor.ukimg)" 644

mkdir other
ok "pack again elsewhere" \
	$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 \
	-o other/again.ukimg
ok "two packs are byte-identical" cmp floor.ukimg other/again.ukimg
ok "pack with explicit defaults" \
	$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 \
	--memory 16 --vcpus 1 --net 0 --platform kvm,xen -o defaults.ukimg
ok "... is the same image" cmp floor.ukimg defaults.ukimg
ok "pack with a different version" \
	$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.1 -o v11.ukimg
not_ok "... differs" cmp -s floor.ukimg v11.ukimg

tar tvf floor.ukimg >tvf.out 2>&1
ok "tar tvf lists the image" tar tvf floor.ukimg
is "tar sees manifest.json then kernel" "$(awk '{print $6}' tvf.out | xargs)" \
	"manifest.json kernel"
is "entries are root/root 0644 at the epoch" \
	"$(awk '{print $1, $2, $4}' tvf.out | sort -u)" \
	"-rw-r--r-- root/root 1970-01-01"
ok "the kernel entry is the floor kernel" \
	sh -c "tar xOf floor.ukimg kernel | cmp - '$FLOOR_ELF'"
is "the manifest pins the kernel's digest" \
	"$(tar xOf floor.ukimg manifest.json | python3 -c \
	'import json,sys; print(json.load(sys.stdin)["entries"]["kernel"]["sha256"])')" \
	"$(sha "$FLOOR_ELF")"

ok "inspect" $UK inspect floor.ukimg
$UK inspect floor.ukimg >inspect.out 2>&1
ok "inspect shows the name" grep -q '^name  *floor$' inspect.out
ok "inspect shows the whole-file sha256" \
	grep -q "^sha256  *$(sha floor.ukimg)\$" inspect.out
ok "inspect shows the PVH entry" grep -q 'PVH entry 0x' inspect.out

$UK inspect --json floor.ukimg >i.json 2>&1
ok "inspect --json is JSON" json i.json 1
is "json: name" "$(json i.json 'j["manifest"]["name"]')" floor
is "json: version" "$(json i.json 'j["manifest"]["version"]')" 1.0
is "json: format" "$(json i.json 'j["manifest"]["format"]')" 1
is "json: arch, boot" \
	"$(json i.json 'j["manifest"]["arch"] + " " + j["manifest"]["boot"]')" \
	"x86_64 pvh"
is "json: platforms" "$(json i.json '",".join(j["manifest"]["platforms"])')" \
	kvm,xen
is "json: memory, vcpus" \
	"$(json i.json '"%d %d" % (j["manifest"]["memory"], j["manifest"]["vcpus"])')" \
	"16 1"
is "json: devices" "$(json i.json 'j["manifest"]["devices"]')" \
	"{'net': 0, 'console': True}"
is "json: file size" "$(json i.json 'j["size"]')" "$(fsize floor.ukimg)"
is "json: file sha256" "$(json i.json 'j["sha256"]')" "$(sha floor.ukimg)"
is "json: entries" "$(json i.json '" ".join(e["name"] for e in j["entries"])')" \
	"manifest.json kernel"
is "json: kernel size" "$(json i.json 'j["entries"][1]["size"]')" \
	"$(fsize "$FLOOR_ELF")"
is "json: kernel sha256" "$(json i.json 'j["entries"][1]["sha256"]')" \
	"$(sha "$FLOOR_ELF")"
is "json: PVH entry" "$(json i.json 'hex(j["kernel"]["pvh_entry"])')" 0x100000

# With an initrd and every option.
head -c 5000 /dev/urandom >initrd.bin
ok "pack with an initrd" \
	$UK pack --kernel "$FLOOR_ELF" --initrd initrd.bin \
	--cmdline 'console=ttyS0 msg="hi there"' --name floor-rd \
	--version 2.0-rc1 --memory 128 --vcpus 4 --net 2 --platform xen \
	--no-console -o rd.ukimg --json
$UK pack --kernel "$FLOOR_ELF" --initrd initrd.bin \
	--cmdline 'console=ttyS0 msg="hi there"' --name floor-rd \
	--version 2.0-rc1 --memory 128 --vcpus 4 --net 2 --platform xen \
	--no-console -o rd2.ukimg --json >p.json 2>&1
ok "with initrd: byte-identical again" cmp rd.ukimg rd2.ukimg
is "pack --json: sha256" "$(json p.json 'j["sha256"]')" "$(sha rd2.ukimg)"
is "pack --json: size" "$(json p.json 'j["size"]')" "$(fsize rd2.ukimg)"
is "tar lists three entries" "$(tar tf rd.ukimg | xargs)" \
	"manifest.json kernel initrd"
ok "the initrd entry is the initrd" \
	sh -c "tar xOf rd.ukimg initrd | cmp - initrd.bin"
$UK inspect --json rd.ukimg >r.json 2>&1
is "json: cmdline" "$(json r.json 'j["manifest"]["cmdline"]')" \
	'console=ttyS0 msg="hi there"'
is "json: platforms xen" "$(json r.json 'j["manifest"]["platforms"]')" "['xen']"
is "json: resources" \
	"$(json r.json '"%(memory)d %(vcpus)d" % j["manifest"]')" "128 4"
is "json: devices" "$(json r.json 'j["manifest"]["devices"]')" \
	"{'net': 2, 'console': False}"
is "json: initrd size and digest" \
	"$(json r.json '"%d %s" % (j["entries"][2]["size"], j["entries"][2]["sha256"])')" \
	"5000 $(sha initrd.bin)"
: >empty.bin
ok "an empty initrd is allowed" \
	$UK pack --kernel "$FLOOR_ELF" --initrd empty.bin --name e --version 1 \
	-o e.ukimg
ok "... and inspects" $UK inspect e.ukimg
ok "pack replaces an existing image" \
	$UK pack --kernel "$FLOOR_ELF" --name floor --version 1.0 -o rd.ukimg
ok "... which now has two entries" \
	sh -c "[ \"\$(tar tf rd.ukimg | wc -l)\" -eq 2 ]"

# Help and usage.
$UK pack --help >help.out 2>&1
for opt in --kernel --initrd --cmdline --name --version --memory --vcpus \
    --net --platform --no-console --output --json --help; do
	ok "pack --help lists $opt" grep -q -- "$opt" help.out
done
$UK inspect --help >ihelp.out 2>&1
ok "inspect --help lists --json" grep -q -- --json ihelp.out
usage() { "$@" >/dev/null 2>&1; [ $? -eq 2 ]; }
ok "pack without --name is a usage error" \
	usage $UK pack --kernel "$FLOOR_ELF" --version 1 -o x.ukimg
ok "pack --memory abc is a usage error" \
	usage $UK pack --kernel "$FLOOR_ELF" --name a --version 1 --memory abc \
	-o x.ukimg
ok "pack --platform arm is a usage error" \
	usage $UK pack --kernel "$FLOOR_ELF" --name a --version 1 \
	--platform arm -o x.ukimg
ok "pack with a stray argument is a usage error" \
	usage $UK pack --kernel "$FLOOR_ELF" --name a --version 1 -o x.ukimg y
ok "inspect without an image is a usage error" usage $UK inspect
ok "inspect with two images is a usage error" \
	usage $UK inspect floor.ukimg floor.ukimg
fails_with "pack --memory 0" manifest_out_of_range \
	$UK pack --kernel "$FLOOR_ELF" --name a --version 1 --memory 0 -o x.ukimg
fails_with "pack --vcpus 65" manifest_out_of_range \
	$UK pack --kernel "$FLOOR_ELF" --name a --version 1 --vcpus 65 -o x.ukimg
fails_with "pack --net 9" manifest_out_of_range \
	$UK pack --kernel "$FLOOR_ELF" --name a --version 1 --net 9 -o x.ukimg
fails_with "pack --name Floor" manifest_bad_name \
	$UK pack --kernel "$FLOOR_ELF" --name Floor --version 1 -o x.ukimg
fails_with "pack --version 1..2" manifest_bad_version \
	$UK pack --kernel "$FLOOR_ELF" --name a --version 1..2 -o x.ukimg
$UK inspect --json missing.ukimg >err.json 2>/dev/null
is "inspect --json reports errors as JSON" \
	"$(json err.json 'j["error"]["code"]')" io_error
ok "no temporary files anywhere" sh -c "! find . -name '*.tmp.*' | grep -q ."

done_testing
