/*
 * xen-selftest.S - the Xen harness's own guest (tests/xen/README.md): a
 * PVH kernel that needs nothing of runtime/, so that a harness failure and
 * a runtime failure look different.  It finds Xen's CPUID leaves, installs
 * the hypercall page, prints "xen-selftest: CMDLINE" on the PV console and
 * shuts down with SHUTDOWN_crash if its command line starts with "crash",
 * else with SHUTDOWN_poweroff.
 *
 * 32-bit code all through: PVH enters in protected mode with paging off, and
 * a 32-bit guest makes 32-bit hypercalls (number in %eax set by the page,
 * arguments in %ebx, %ecx).  Nothing is kept in registers across a
 * hypercall: debug builds of Xen scribble on the argument registers.
 */
#define XEN_ELFNOTE_XEN_VERSION		5
#define XEN_ELFNOTE_GUEST_OS		6
#define XEN_ELFNOTE_LOADER		8
#define XEN_ELFNOTE_PHYS32_ENTRY	18

#define HYPERCALL_SCHED_OP		29
#define HYPERCALL_EVENT_CHANNEL_OP	32
#define HYPERCALL_HVM_OP		34
#define SCHEDOP_SHUTDOWN		2
#define EVTCHNOP_SEND			4
#define HVMOP_GET_PARAM			1
#define HVM_PARAM_CONSOLE_PFN		17
#define HVM_PARAM_CONSOLE_EVTCHN	18
#define SHUTDOWN_POWEROFF		0
#define SHUTDOWN_CRASH			3
#define DOMID_SELF			0x7ff0

/* struct xencons_interface: in[1024], out[2048], then the four indexes */
#define CONS_OUT			1024
#define CONS_OUT_SIZE			2048
#define CONS_OUT_CONS			3080
#define CONS_OUT_PROD			3084
/* struct hvm_start_info: cmdline_paddr */
#define START_INFO_CMDLINE		24

#define HYPERCALL(n)	(hypercall_page + (n) * 32)

/* One note per entry: name "Xen", 4-byte aligned fields. */
	.macro xen_note type, desc:vararg
	.balign 4
	.long 4, 4f - 3f, \type
	.asciz "Xen"
3:	\desc
4:	.balign 4
	.endm

	.section .note.Xen, "a", @note
	xen_note XEN_ELFNOTE_PHYS32_ENTRY, .quad selftest_start
	/* Xen's ELF loader wants a LOADER note besides the entry point */
	xen_note XEN_ELFNOTE_LOADER, .asciz "generic"
	xen_note XEN_ELFNOTE_GUEST_OS, .asciz "xen-selftest"
	xen_note XEN_ELFNOTE_XEN_VERSION, .asciz "xen-3.0"

	.text
	.code32
	.globl selftest_start
selftest_start:
	cli
	mov $stack_top, %esp
	mov START_INFO_CMDLINE(%ebx), %eax
	mov %eax, cmdline
	call find_xen
	test %eax, %eax
	jz stop
	mov %eax, %ebx			/* hypercall page MSR: base + 2 */
	add $2, %eax
	cpuid
	mov %ebx, %ecx
	mov $hypercall_page, %eax
	xor %edx, %edx
	wrmsr

	mov $HVM_PARAM_CONSOLE_PFN, %eax
	call get_param
	shl $12, %eax
	mov %eax, ring
	mov $HVM_PARAM_CONSOLE_EVTCHN, %eax
	call get_param
	mov %eax, port

	mov $msg, %esi
	call puts
	mov cmdline, %esi
	test %esi, %esi
	jz 1f
	call puts
1:	mov $newline, %esi
	call puts

	movl $SHUTDOWN_POWEROFF, shutdown_reason
	mov cmdline, %edi
	test %edi, %edi
	jz 2f
	cmpl $0x73617263, (%edi)	/* "cras" */
	jne 2f
	movl $SHUTDOWN_CRASH, shutdown_reason
2:	mov $SCHEDOP_SHUTDOWN, %ebx
	mov $shutdown_reason, %ecx
	call HYPERCALL(HYPERCALL_SCHED_OP)
stop:	cli
	hlt
	jmp stop

/* %eax = Xen's CPUID base leaf ("XenVMMXenVMM"), or 0 */
find_xen:
	mov $0x40000000, %esi
1:	mov %esi, %eax
	cpuid
	cmp $0x566e6558, %ebx
	jne 2f
	cmp $0x65584d4d, %ecx
	jne 2f
	cmp $0x4d4d566e, %edx
	jne 2f
	mov %esi, %eax
	ret
2:	add $0x100, %esi
	cmp $0x40010000, %esi
	jb 1b
	xor %eax, %eax
	ret

/* %eax = HVM parameter %eax of this domain; stops on failure */
get_param:
	movw $DOMID_SELF, hvm_param
	mov %eax, hvm_param + 4
	mov $HVMOP_GET_PARAM, %ebx
	mov $hvm_param, %ecx
	call HYPERCALL(HYPERCALL_HVM_OP)
	test %eax, %eax
	jnz stop
	mov hvm_param + 8, %eax
	ret

/* the NUL-terminated string at %esi onto the console ring, then notify */
puts:
	mov ring, %edx
1:	lodsb
	test %al, %al
	jz 3f
2:	mov CONS_OUT_PROD(%edx), %ecx
	mov %ecx, %ebx
	sub CONS_OUT_CONS(%edx), %ebx
	cmp $CONS_OUT_SIZE, %ebx
	jae 2b				/* full: xenconsoled will drain it */
	mov %ecx, %ebx
	and $(CONS_OUT_SIZE - 1), %ebx
	mov %al, CONS_OUT(%edx, %ebx)
	inc %ecx
	/* x86 keeps stores in order: the byte is visible before the index */
	mov %ecx, CONS_OUT_PROD(%edx)
	jmp 1b
3:	mov port, %eax
	mov %eax, evtchn_send
	mov $EVTCHNOP_SEND, %ebx
	mov $evtchn_send, %ecx
	call HYPERCALL(HYPERCALL_EVENT_CHANNEL_OP)
	ret

msg:	.asciz "xen-selftest: "
newline: .asciz "\r\n"

	.data
	.balign 8
hvm_param:	.long 0, 0, 0, 0	/* domid, index, value (u64) */
evtchn_send:	.long 0
shutdown_reason: .long 0
ring:		.long 0
cmdline:	.long 0
port:		.long 0

	.bss
	.balign 4096
hypercall_page:	.space 4096
	.space 4096
stack_top:
