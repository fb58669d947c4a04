/*
 * traps.S - one entry stub per vector (0..255), all joining trap_common,
 * which saves the general registers as struct rt_trapframe (arch.h), calls
 * rt_trap() and returns to the interrupted code.
 */
#include "arch.h"

	/* First in the image (runtime.ld): the IDT (pvh.S) is computed
	 * from the stubs' address, which must start a page. */
	.section .text.rt_trap_stubs, "ax"

/*
 * Stub (v) starts at rt_trap_stubs + 16 * (v).  Vectors for which the CPU
 * pushes an error code (#DF #TS #NP #SS #GP #PF #AC #CP #VC #SX) push the
 * vector only; the others push a 0 in the error code's place first.
 */
	.balign 16
	.globl rt_trap_stubs
rt_trap_stubs:
	vector = 0
	.rept 256
	.balign 16
	.if !(vector == 8 || (vector >= 10 && vector <= 14) || \
	    vector == 17 || vector == 21 || vector == 29 || vector == 30)
	pushq $0
	.endif
	pushq $vector
	jmp trap_common
	vector = vector + 1
	.endr
	.balign 16

	.type trap_common, @function
trap_common:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %rbx
	push %rax
	/* The CPU aligned the stack to 16 before its frame; 22 words since
	 * keep it aligned for the call. */
	mov %rsp, %rdi
	cld
	call rt_trap
	pop %rax
	pop %rbx
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rbp
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	add $16, %rsp			/* vector and error code */
	iretq
	.size trap_common, . - trap_common

	.section .note.GNU-stack, "", @progbits
