#!/bin/sh
# tar-interop.sh - GNU tar reads our images, and we read GNU tar's archives
# of the same entries (ustar and GNU formats, padded to 10240-byte records).
. "$top_srcdir/tests/lib.sh"

command -v tar >/dev/null || skip_all "tar not installed"
tar --version 2>/dev/null | grep -q 'GNU tar' || skip_all "not GNU tar"
[ -f "$FLOOR_ELF" ] || skip_all "floor kernel not built"

cd "$TMP" || exit 1
sha() { sha256sum "$1" | cut -d' ' -f1; }
# digests IMAGE: the entries' names and digests as inspect reports them
digests() { $UK inspect "$1" | sed -n '/^entries:/,$p'; }

head -c 20000 /dev/urandom >initrd.bin
ok "pack an image with an initrd" \
	$UK pack --kernel "$FLOOR_ELF" --initrd initrd.bin --name floor \
	--version 1.0 --cmdline "console=ttyS0" -o ours.ukimg

# GNU tar reads ours.
is "tar lists our entries in order" "$(tar tf ours.ukimg | xargs)" \
	"manifest.json kernel initrd"
mkdir x
ok "tar extracts our image" tar -xf ours.ukimg -C x
ok "extracted kernel is identical" cmp x/kernel "$FLOOR_ELF"
ok "extracted initrd is identical" cmp x/initrd initrd.bin
ok "tar --compare finds no difference" tar -df ours.ukimg -C x
is "extracted files have mtime 0" "$(stat -c %Y x/kernel)" 0
ok "tar sees no trailing garbage (GNU tar warns about none)" \
	sh -c "tar tf ours.ukimg 2>&1 >/dev/null | wc -c | grep -qx 0"

# We read GNU tar's archives of the same entries.
(cd x && tar --format=ustar -cf ../ustar.ukimg manifest.json kernel initrd)
(cd x && tar -cf ../gnu.ukimg manifest.json kernel initrd)
is "GNU tar's ustar archive has the POSIX magic" \
	"$(dd if=ustar.ukimg bs=1 skip=257 count=8 2>/dev/null | od -An -tx1 | xargs)" \
	'75 73 74 61 72 00 30 30'
is "GNU tar's default archive has the GNU magic" \
	"$(dd if=gnu.ukimg bs=1 skip=257 count=8 2>/dev/null | od -An -tx1 | xargs)" \
	'75 73 74 61 72 20 20 00'
is "GNU tar pads to 10240-byte records" \
	"$(( $(wc -c <gnu.ukimg) % 10240 ))" 0
ok "uk inspect accepts tar --format=ustar" $UK inspect ustar.ukimg
ok "uk inspect accepts tar's default (gnu) format" $UK inspect gnu.ukimg
is "same entries and digests (ustar)" "$(digests ustar.ukimg)" \
	"$(digests ours.ukimg)"
is "same entries and digests (gnu)" "$(digests gnu.ukimg)" \
	"$(digests ours.ukimg)"
(cd x && tar --format=ustar -b 1 -cf ../b1.ukimg manifest.json kernel initrd)
ok "a blocking factor of 1 (no record padding) is accepted" \
	$UK inspect b1.ukimg
(cd x && tar --format=ustar -b 64 -cf ../b64.ukimg manifest.json kernel initrd)
ok "a blocking factor of 64 (32 KiB records) is accepted" \
	$UK inspect b64.ukimg
(cd x && tar --format=ustar --owner=nobody:65534 --group=nogroup:65534 \
	--mode=0600 --mtime=@1700000000 -cf ../owners.ukimg manifest.json kernel \
	initrd)
ok "other owners, modes and times are accepted" $UK inspect owners.ukimg

# Another writer: Python's tarfile in ustar format.
if command -v python3 >/dev/null; then
	(cd x && python3 -c '
import tarfile
with tarfile.open("../py.ukimg", "w", format=tarfile.USTAR_FORMAT) as t:
    for n in ("manifest.json", "kernel", "initrd"):
        t.add(n)
')
	ok "uk inspect accepts Python tarfile's ustar" $UK inspect py.ukimg
else
	ok "python3 missing: tarfile case skipped" true
fi

# What tar can write but an image must not be.
(cd x && tar --format=posix -cf ../pax.ukimg manifest.json kernel)
fails_with "tar --format=posix (pax headers) is refused" \
	ustar_unsupported_header $UK inspect pax.ukimg
(cd x && tar --format=v7 -cf ../v7.ukimg manifest.json kernel)
fails_with "tar --format=v7 (no magic) is refused" ustar_bad_magic \
	$UK inspect v7.ukimg
(cd x && tar --format=ustar -cf ../order.ukimg kernel manifest.json)
fails_with "entries in another order are refused" img_entry_order \
	$UK inspect order.ukimg
(cd x && tar --format=ustar -cf ../dot.ukimg ./manifest.json ./kernel)
fails_with "'./' names are not image entries" img_unknown_entry \
	$UK inspect dot.ukimg
(cd x && tar --format=ustar -cf ../dir.ukimg manifest.json kernel . 2>/dev/null)
fails_with "a directory entry is refused" ustar_not_regular \
	$UK inspect dir.ukimg
(cd x && ln -s kernel link && tar --format=ustar -cf ../sym.ukimg \
	manifest.json kernel link)
fails_with "a symlink entry is refused" ustar_symlink $UK inspect sym.ukimg
(cd x && ln kernel hard && tar --format=ustar -cf ../hard.ukimg \
	manifest.json kernel hard)
fails_with "a hard link entry is refused" ustar_hardlink \
	$UK inspect hard.ukimg

done_testing
