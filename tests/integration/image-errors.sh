#!/bin/sh
# image-errors.sh - crafted bad images, each refused by `uk inspect` with its
# own code, and kernels `uk pack` must refuse without leaving files behind.
. "$top_srcdir/tests/lib.sh"

command -v python3 >/dev/null || skip_all "python3 not installed"
[ -f "$FLOOR_ELF" ] || skip_all "floor kernel not built"

cd "$TMP" || exit 1

echo "initrd data" >initrd.bin
$UK pack --kernel "$FLOOR_ELF" --initrd initrd.bin --name floor --version 1 \
	-o good.ukimg >/dev/null || { echo "Bail out! cannot pack"; exit 1; }
mkdir parts && (cd parts && tar xf ../good.ukimg)

# craft.py CASE OUT: writes a damaged copy of good.ukimg (or an archive of
# the parts in parts/) to OUT.
cat >craft.py <<'EOF'
import io, json, hashlib, sys, tarfile

case, out = sys.argv[1], sys.argv[2]
img = bytearray(open("good.ukimg", "rb").read())
parts = {n: open("parts/" + n, "rb").read()
         for n in ("manifest.json", "kernel", "initrd")}

def headers(b):
    """Offsets of the entry headers in b."""
    offs, pos = [], 0
    while any(b[pos:pos + 512]):
        offs.append(pos)
        size = int(b[pos + 124:pos + 136].strip(b"\0 "), 8)
        pos += 512 + (size + 511) // 512 * 512
    return offs

def fix(b, h):
    b[h + 148:h + 156] = b" " * 8
    b[h + 148:h + 156] = b"%06o\0 " % sum(b[h:h + 512])

def field(h, off, data, fixsum=True):
    img[h + off:h + off + len(data)] = data
    if fixsum:
        fix(img, h)

def archive(entries, fmt=tarfile.USTAR_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return bytearray(buf.getvalue())

def manifest(edit):
    m = json.loads(parts["manifest.json"])
    edit(m)
    return json.dumps(m).encode()

def with_kernel(k):
    m = manifest(lambda m: m["entries"]["kernel"].update(
        size=len(k), sha256=hashlib.sha256(k).hexdigest()))
    return archive([("manifest.json", m), ("kernel", k),
                    ("initrd", parts["initrd"])])

man, ker, ird = headers(img)
kdata = ker + 512
P = parts
cases = {
    "truncated": lambda: img[:kdata + 100],
    "no-end": lambda: img[:ird + 1024],
    "checksum": lambda: field(ker, 0, b"Kernel", fixsum=False),
    "octal": lambda: field(ker, 124, b"0000001x530\0"),
    "base256": lambda: field(ker, 124, b"\x80" + b"\0" * 10 + b"\x10"),
    "magic": lambda: field(ker, 257, b"ustaR\0"),
    "trailing": lambda: img.extend(b"garbage!" * 64),
    "padding": lambda: img.__setitem__(kdata + len(P["kernel"]), 0x41),
    "dotdot": lambda: field(ker, 0, b"../kernel\0"),
    "absolute": lambda: field(ker, 0, b"/kernel\0"),
    "symlink": lambda: field(ird, 156, b"2"),
    "hardlink": lambda: field(ird, 156, b"1"),
    "directory": lambda: field(ird, 156, b"5"),
    "fifo": lambda: field(ird, 156, b"6"),
    "chardev": lambda: field(ird, 156, b"3"),
    "size-past-end": lambda: field(ird, 124, b"00000077777\0"),
    "digest": lambda: img.__setitem__(kdata + 200, img[kdata + 200] ^ 1),
}
archives = {
    "pax": lambda: archive([("manifest.json", P["manifest.json"]),
                            ("kernel", P["kernel"]), ("x" * 120, b"")],
                           tarfile.PAX_FORMAT),
    "longname": lambda: archive([("manifest.json", P["manifest.json"]),
                                 ("kernel", P["kernel"]),
                                 ("y" * 120, b"")], tarfile.GNU_FORMAT),
    "duplicate": lambda: archive([("manifest.json", P["manifest.json"]),
                                  ("kernel", P["kernel"]),
                                  ("kernel", P["kernel"])]),
    "no-manifest": lambda: archive([("kernel", P["kernel"])]),
    "no-kernel": lambda: archive([("manifest.json", P["manifest.json"])]),
    "unknown": lambda: archive([("manifest.json", P["manifest.json"]),
                                ("kernel", P["kernel"]),
                                ("initrd", P["initrd"]), ("extra", b"x")]),
    "order": lambda: archive([("kernel", P["kernel"]),
                              ("manifest.json", P["manifest.json"]),
                              ("initrd", P["initrd"])]),
    "unlisted": lambda: archive([
        ("manifest.json",
         manifest(lambda m: m["entries"].pop("initrd"))),
        ("kernel", P["kernel"]), ("initrd", P["initrd"])]),
    "size": lambda: archive([
        ("manifest.json",
         manifest(lambda m: m["entries"]["initrd"].update(size=1))),
        ("kernel", P["kernel"]), ("initrd", P["initrd"])]),
    "format2": lambda: archive([
        ("manifest.json", manifest(lambda m: m.update(format=2))),
        ("kernel", P["kernel"]), ("initrd", P["initrd"])]),
    "unknown-key": lambda: archive([
        ("manifest.json", manifest(lambda m: m.update(gpu=True))),
        ("kernel", P["kernel"]), ("initrd", P["initrd"])]),
    "bad-json": lambda: archive([("manifest.json", b"{not json"),
                                 ("kernel", P["kernel"])]),
    "big-manifest": lambda: archive([("manifest.json", b" " * 70000),
                                     ("kernel", P["kernel"])]),
    "not-pvh": lambda: with_kernel(
        P["kernel"].replace(b"Xen\0", b"Xan\0")),
    "not-x86": lambda: with_kernel(
        P["kernel"][:18] + b"\xb7\0" + P["kernel"][20:]),
}
if case in cases:
    r = cases[case]()
    data = r if isinstance(r, (bytes, bytearray)) else img
else:
    data = archives[case]()
open(out, "wb").write(data)
EOF

# bad CASE CODE: craft CASE and expect `uk inspect` to refuse it with CODE.
bad() {
	python3 craft.py "$1" "$1.ukimg" || echo "# craft.py $1 failed"
	fails_with "inspect refuses $1" "$2" $UK inspect "$1.ukimg"
}

ok "the good image inspects" $UK inspect good.ukimg
bad truncated ustar_truncated
bad no-end ustar_truncated
bad checksum ustar_bad_checksum
bad octal ustar_bad_octal
bad base256 ustar_bad_octal
bad magic ustar_bad_magic
bad trailing ustar_trailing_garbage
bad padding ustar_bad_padding
bad dotdot ustar_path_traversal
bad absolute ustar_absolute_path
bad symlink ustar_symlink
bad hardlink ustar_hardlink
bad directory ustar_not_regular
bad fifo ustar_not_regular
bad chardev ustar_not_regular
bad size-past-end ustar_truncated
bad digest img_digest_mismatch
bad pax ustar_unsupported_header
bad longname ustar_unsupported_header
bad duplicate ustar_duplicate_entry
bad no-manifest img_missing_entry
bad no-kernel img_missing_entry
bad unknown img_unknown_entry
bad order img_entry_order
bad unlisted img_unlisted_entry
bad size img_size_mismatch
bad format2 manifest_unsupported_format
bad unknown-key manifest_unknown_key
bad bad-json manifest_invalid_json
bad big-manifest img_entry_too_large
bad not-pvh elf_no_pvh_note
bad not-x86 elf_not_x86
: >empty.ukimg
fails_with "inspect refuses an empty file" ustar_truncated \
	$UK inspect empty.ukimg
echo "hello" >text.ukimg
fails_with "inspect refuses a text file" ustar_truncated \
	$UK inspect text.ukimg
head -c 1024 /dev/urandom | tr '\0' x >random.ukimg
fails_with "inspect refuses random bytes" ustar_bad_magic \
	$UK inspect random.ukimg
truncate -s 1100M huge.ukimg
fails_with "inspect refuses a file over the size limit" img_too_large \
	$UK inspect huge.ukimg
rm -f huge.ukimg
fails_with "inspect refuses a directory" io_error $UK inspect parts
mkfifo pipe.fifo
fails_with "inspect refuses a fifo without waiting for a writer" io_error \
	timeout 20 $UK inspect pipe.fifo
ok "inspect error messages name the file" \
	sh -c "$UK inspect digest.ukimg 2>&1 | grep -q 'digest.ukimg: kernel'"

# uk pack must refuse kernels that are not PVH, and leave nothing behind.
clean() { [ ! -e out.ukimg ] && ! ls | grep -q '\.tmp\.'; }
refuse() {	# refuse NAME CODE KERNEL
	fails_with "pack refuses $1" "$2" \
		$UK pack --kernel "$3" --name x --version 1 -o out.ukimg
	ok "... leaving no output or temporary file" clean
}
echo "not a kernel" >text.kernel
head -c 100 "$FLOOR_ELF" >truncated.kernel
head -c 3 "$FLOOR_ELF" >tiny.kernel
: >empty.kernel
python3 -c "
import sys
k = open(sys.argv[1], 'rb').read()
open('nonote.kernel', 'wb').write(k.replace(b'Xen\0', b'Xan\0'))
open('arm.kernel', 'wb').write(k[:18] + b'\x28\0' + k[20:])
open('dyn.kernel', 'wb').write(k[:16] + b'\x03\0' + k[18:])
" "$FLOOR_ELF"
refuse "a text file" elf_not_elf text.kernel
refuse "an empty file" elf_not_elf empty.kernel
refuse "a 3-byte file" elf_not_elf tiny.kernel
refuse "a truncated ELF" elf_truncated truncated.kernel
refuse "an ELF without PVH note" elf_no_pvh_note nonote.kernel
refuse "an ARM ELF" elf_not_x86 arm.kernel
refuse "a shared object" elf_not_executable dyn.kernel
refuse "a missing file" io_error missing.kernel
refuse "a directory" io_error parts
# /bin/true is a dynamically linked (usually PIE) program: no PVH kernel.
$UK pack --kernel /bin/true --name x --version 1 -o out.ukimg >true.out 2>&1
is "pack refuses /bin/true" "$?" 1
ok "... saying it is no PVH kernel" grep -q 'PVH' true.out
ok "... with an elf_ code" grep -q '\[elf_' true.out
ok "... leaving no output or temporary file" clean
$UK pack --kernel /bin/true --name x --version 1 -o out.ukimg --json \
	>true.json 2>/dev/null
ok "pack --json reports the error as JSON" \
	python3 -c "import json,sys; assert json.load(open('true.json'))['error']['code'].startswith('elf_')"
fails_with "pack refuses an unwritable output directory" io_error \
	$UK pack --kernel "$FLOOR_ELF" --name x --version 1 -o nodir/out.ukimg
fails_with "pack refuses a directory as initrd" io_error \
	$UK pack --kernel "$FLOOR_ELF" --initrd parts --name x --version 1 \
	-o out.ukimg
ok "... leaving no output or temporary file" clean
fails_with "pack refuses a fifo as initrd" io_error \
	timeout 20 $UK pack --kernel "$FLOOR_ELF" --initrd pipe.fifo --name x \
	--version 1 -o out.ukimg
ok "... leaving no output or temporary file" clean

done_testing
