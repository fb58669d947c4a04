#include "config.h"

#include <string.h>

#include "elf.h"

/*
 * The ELF layouts (System V gABI), written out rather than taken from the
 * system's <elf.h>, which this directory's elf.h shadows.  Fields are
 * decoded by hand as little-endian so that neither alignment nor the host's
 * byte order matters.
 */
#define ELFMAG "\177ELF"
#define SELFMAG 4
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define PN_XNUM 0xffff

#define E_TYPE 16	/* u16, both classes */
#define E_MACHINE 18	/* u16 */
#define E_VERSION 20	/* u32 */

/* Where a class keeps each field: offset and width. */
struct field {
	unsigned char off, width;
};

struct layout {
	size_t ehdr_size, phdr_size, shdr_size;
	struct field phoff, shoff, phentsize, phnum, shentsize, shnum;
	struct field p_type, p_offset, p_paddr, p_filesz, p_memsz, p_align;
	struct field sh_type, sh_offset, sh_size, sh_addralign;
};

static const struct layout elf32 = {
	52, 32, 40,
	{ 28, 4 }, { 32, 4 }, { 42, 2 }, { 44, 2 }, { 46, 2 }, { 48, 2 },
	{ 0, 4 }, { 4, 4 }, { 12, 4 }, { 16, 4 }, { 20, 4 }, { 28, 4 },
	{ 4, 4 }, { 16, 4 }, { 20, 4 }, { 32, 4 },
};

static const struct layout elf64 = {
	64, 56, 64,
	{ 32, 8 }, { 40, 8 }, { 54, 2 }, { 56, 2 }, { 58, 2 }, { 60, 2 },
	{ 0, 4 }, { 8, 8 }, { 24, 8 }, { 32, 8 }, { 40, 8 }, { 48, 8 },
	{ 4, 4 }, { 24, 8 }, { 32, 8 }, { 48, 8 },
};

#define FIELD(p, f) le((p) + (f).off, (f).width)

struct ehdr {
	const struct layout *l;
	int is64;
	uint64_t phoff, shoff;
	uint64_t phentsize, phnum, shentsize, shnum;
};

/* What the check needs of a program or section header. */
struct region {
	uint64_t type, offset, size, align;
	uint64_t paddr, memsz;	/* program headers only */
};

/* Real kernels carry a few dozen notes; the cap keeps hostile files with
 * thousands of overlapping note sections from costing minutes. */
#define NOTES_MAX 4096

struct elf_buf {
	const unsigned char *p;
	size_t len;
	struct ehdr h;
	unsigned notes;		/* note headers walked so far */
};

static uint64_t
le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* 1 when [off, off + size) lies inside a buffer of (len) bytes. */
static int
in_bounds(uint64_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static int
check_ident(const unsigned char *p, size_t len, struct err *e)
{
	if (len < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) != 0)
		return err_set(e, "elf_not_elf",
		    "not an ELF file, so not a PVH kernel");
	if (p[EI_CLASS] != ELFCLASS64 && p[EI_CLASS] != ELFCLASS32)
		return err_set(e, "elf_not_x86",
		    "ELF class %u is neither 32- nor 64-bit", p[EI_CLASS]);
	if (p[EI_DATA] != ELFDATA2LSB)
		return err_set(e, "elf_not_x86",
		    "big-endian ELF, not an x86 kernel");
	if (p[EI_VERSION] != EV_CURRENT)
		return err_set(e, "elf_malformed", "unknown ELF version %u",
		    p[EI_VERSION]);
	return 0;
}

static void
read_ehdr(const unsigned char *p, struct ehdr *h)
{
	const struct layout *l = h->l;

	h->phoff = FIELD(p, l->phoff);
	h->shoff = FIELD(p, l->shoff);
	h->phentsize = FIELD(p, l->phentsize);
	h->phnum = FIELD(p, l->phnum);
	h->shentsize = FIELD(p, l->shentsize);
	h->shnum = FIELD(p, l->shnum);
}

static int
check_machine(const unsigned char *p, int is64, struct err *e)
{
	uint64_t machine = le(p + E_MACHINE, 2), type = le(p + E_TYPE, 2);

	if (is64 ? machine != EM_X86_64 : machine != EM_386)
		return err_set(e, "elf_not_x86",
		    "ELF for machine %llu, not %s", (unsigned long long)machine,
		    is64 ? "x86_64" : "i386");
	if (type != ET_EXEC)
		return err_set(e, "elf_not_executable",
		    "ELF %s, not a statically linked executable (ET_EXEC) as "
		    "PVH kernels are", type == 1 ? "object file" :
		    type == 3 ? "shared object or PIE program" : "of another type");
	if (le(p + E_VERSION, 4) != EV_CURRENT)
		return err_set(e, "elf_malformed", "unknown ELF version");
	return 0;
}

static int
check_table(const struct elf_buf *b, uint64_t off, uint64_t num,
    uint64_t entsize, uint64_t want, const char *what, struct err *e)
{
	if (num == 0)
		return 0;
	if (entsize != want)
		return err_set(e, "elf_malformed",
		    "%s entries of %llu bytes, expected %llu", what,
		    (unsigned long long)entsize, (unsigned long long)want);
	/* num < 2^16 and entsize < 2^16: the product cannot overflow. */
	if (!in_bounds(b->len, off, num * entsize))
		return err_set(e, "elf_truncated", "%s table past the end",
		    what);
	return 0;
}

static int
read_header(struct elf_buf *b, struct err *e)
{
	const unsigned char *p = b->p;
	struct ehdr *h = &b->h;

	if (check_ident(p, b->len, e) == -1)
		return -1;
	h->is64 = p[EI_CLASS] == ELFCLASS64;
	h->l = h->is64 ? &elf64 : &elf32;
	if (b->len < h->l->ehdr_size)
		return err_set(e, "elf_truncated", "ELF header cut short");
	if (check_machine(p, h->is64, e) == -1)
		return -1;
	read_ehdr(p, h);
	if (h->phnum == PN_XNUM)
		return err_set(e, "elf_malformed",
		    "extended program header numbering not supported");
	if (h->phnum == 0)
		return err_set(e, "elf_malformed", "no program headers");
	if (check_table(b, h->phoff, h->phnum, h->phentsize, h->l->phdr_size,
	    "program header", e) == -1)
		return -1;
	return check_table(b, h->shoff, h->shnum, h->shentsize,
	    h->l->shdr_size, "section header", e);
}

static void
read_phdr(const struct elf_buf *b, uint64_t i, struct region *r)
{
	const unsigned char *p = b->p + b->h.phoff + i * b->h.phentsize;
	const struct layout *l = b->h.l;

	r->type = FIELD(p, l->p_type);
	r->offset = FIELD(p, l->p_offset);
	r->size = FIELD(p, l->p_filesz);
	r->align = FIELD(p, l->p_align);
	r->paddr = FIELD(p, l->p_paddr);
	r->memsz = FIELD(p, l->p_memsz);
}

static void
read_shdr(const struct elf_buf *b, uint64_t i, struct region *r)
{
	const unsigned char *p = b->p + b->h.shoff + i * b->h.shentsize;
	const struct layout *l = b->h.l;

	memset(r, 0, sizeof(*r));

	r->type = FIELD(p, l->sh_type);
	r->offset = FIELD(p, l->sh_offset);
	r->size = FIELD(p, l->sh_size);
	r->align = FIELD(p, l->sh_addralign);
}

static uint64_t
round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int
pvh_desc(const unsigned char *desc, uint64_t descsz, uint64_t *entry,
    struct err *e)
{
	if (descsz != 4 && descsz != 8)
		return err_set(e, "elf_bad_pvh_note",
		    "PVH entry note of %llu bytes, expected 4 or 8",
		    (unsigned long long)descsz);
	*entry = le(desc, (size_t)descsz);
	if (*entry > UINT32_MAX)
		return err_set(e, "elf_bad_pvh_note",
		    "PVH entry 0x%llx is above 4 GiB",
		    (unsigned long long)*entry);
	return 0;
}

/*
 * Walks the notes in (r).  Returns 1 and the entry when the PVH note is
 * there, 0 when not, -1 on a malformed note.  Note headers are three 32-bit
 * words in both classes.
 */
static int
find_note(struct elf_buf *b, const struct region *r, uint64_t *entry,
    struct err *e)
{
	uint64_t a = r->align == 8 ? 8 : 4, pos = 0, namesz, descsz, need;
	const unsigned char *p;

	if (!in_bounds(b->len, r->offset, r->size))
		return err_set(e, "elf_truncated", "note past the end");
	p = b->p + r->offset;
	while (r->size - pos >= 12) {
		if (++b->notes > NOTES_MAX)
			return err_set(e, "elf_malformed", "more than %d notes",
			    NOTES_MAX);
		namesz = le(p + pos, 4);
		descsz = le(p + pos + 4, 4);
		/* gABI: header and name, then descriptor, each padded to
		 * (a) from the note's start. */
		need = round_up(12 + namesz, a);
		if (need > r->size - pos || descsz > r->size - pos - need)
			return err_set(e, "elf_truncated",
			    "ELF note runs past its segment");
		if (namesz == 4 && memcmp(p + pos + 12, "Xen", 4) == 0 &&
		    le(p + pos + 8, 4) == ELF_XEN_NOTE_PHYS32_ENTRY)
			return pvh_desc(p + pos + need, descsz, entry, e) == 0 ?
			    1 : -1;
		need = round_up(need + descsz, a);
		pos = need > r->size - pos ? r->size : pos + need;
	}
	return 0;
}

static int
find_pvh(struct elf_buf *b, uint64_t *entry, struct err *e)
{
	struct region r;
	uint64_t i;
	int rc;

	for (i = 0; i < b->h.phnum; i++) {
		read_phdr(b, i, &r);
		if (r.type == PT_NOTE && (rc = find_note(b, &r, entry, e)) != 0)
			return rc;
	}
	for (i = 0; i < b->h.shnum; i++) {
		read_shdr(b, i, &r);
		if (r.type == SHT_NOTE && (rc = find_note(b, &r, entry, e)) != 0)
			return rc;
	}
	return err_set(e, "elf_no_pvh_note",
	    "no PVH entry note (Xen note type %d): not a PVH kernel",
	    ELF_XEN_NOTE_PHYS32_ENTRY);
}

/* QEMU and Xen jump to the entry after loading PT_LOAD segments at their
 * physical addresses: an entry outside all of them cannot be right. */
static int
check_entry_loaded(const struct elf_buf *b, uint64_t entry, struct err *e)
{
	struct region r;
	uint64_t i;
	int loads = 0;

	for (i = 0; i < b->h.phnum; i++) {
		read_phdr(b, i, &r);
		if (r.type != PT_LOAD)
			continue;
		loads++;
		if (entry >= r.paddr && entry - r.paddr < r.memsz)
			return 0;
	}
	if (loads == 0)
		return err_set(e, "elf_malformed", "no loadable segment");
	return err_set(e, "elf_bad_pvh_note",
	    "PVH entry 0x%llx is outside every loadable segment",
	    (unsigned long long)entry);
}

int
elf_check_pvh(const void *buf, size_t len, struct elf_pvh *out,
    struct err *e)
{
	struct elf_buf b;
	uint64_t entry = 0;

	memset(&b, 0, sizeof(b));
	b.p = buf;
	b.len = len;
	if (read_header(&b, e) == -1 || find_pvh(&b, &entry, e) != 1 ||
	    check_entry_loaded(&b, entry, e) == -1)
		return -1;
	if (out != NULL) {
		out->bits = b.h.is64 ? 64 : 32;
		out->entry = entry;
	}
	return 0;
}
