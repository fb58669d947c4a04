/*
 * floor.S - the smallest PVH kernel: it prints "floor" on COM1 and exits
 * through QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,
 * iosize=4: QEMU then exits with status 1).  It is what `uk pack` tests pack
 * and what boot benchmarks compare against (the floor).
 *
 * PVH enters in 32-bit protected mode, paging off, flat segments, with
 * %ebx pointing at hvm_start_info; nothing here needs a stack.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f		/* namesz */
	.long 4f - 3f		/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.balign 4
3:	.quad floor_start	/* 8 bytes: QEMU reads a full word on ELF64 */
4:	.balign 4

	.text
	.code32
	.globl floor_start
floor_start:
	mov $msg, %esi
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	out %al, %dx
	jmp 1b
2:	mov $DEBUG_EXIT_PORT, %dx
	xor %eax, %eax		/* QEMU exits with (0 << 1) | 1 */
	out %eax, %dx
3:	cli
	hlt
	jmp 3b

msg:	.asciz "floor\n"
