/*
 * xen.h - what runtime/xen/ needs of Xen's guest ABI, written from the
 * public interface (xen/include/public/: xen.h, sched.h, event_channel.h,
 * memory.h, grant_table.h, hvm/hvm_op.h, hvm/params.h, io/console.h,
 * io/xs_wire.h, arch-x86/cpuid.h), x86_64 layouts only, and the state the
 * files here share.  Internal to runtime/xen/; the core sees
 * runtime/kernel/platform.h, drivers see xenbus.h.
 */
#ifndef RT_XEN_XEN_H
#define RT_XEN_XEN_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/platform.h"
#include "xenbus.h"

/* CPUID: the signature leaf is searched for from 0x40000000 in steps of
 * 0x100 (a hypervisor may put Viridian or KVM leaves first). */
#define XEN_CPUID_FIRST		0x40000000u
#define XEN_CPUID_LAST		0x4000ff00u
#define XEN_CPUID_STEP		0x100u
#define XEN_SIG_EBX		0x566e6558u	/* "XenV" */
#define XEN_SIG_ECX		0x65584d4du	/* "MMXe" */
#define XEN_SIG_EDX		0x4d4d566eu	/* "nVMM" */
#define XEN_LEAF_VERSION	1	/* + base: EAX = major << 16 | minor */
#define XEN_LEAF_HYPERCALL	2	/* + base: EBX = hypercall page MSR */
#define XEN_LEAF_TIME		3	/* + base, subleaf 0: ECX = TSC kHz */

/* Hypercall numbers: the page has one 32-byte stub per number. */
#define XEN_HC_MEMORY_OP	12
#define XEN_HC_GRANT_TABLE_OP	20
#define XEN_HC_SCHED_OP		29
#define XEN_HC_EVENT_CHANNEL_OP	32
#define XEN_HC_HVM_OP		34
#define XEN_HC_STUB_SIZE	32

#define XEN_DOMID_SELF		0x7ff0u
#define XEN_DOMID_FIRST_RESERVED 0x7ff0u	/* real domains are below */

/* Xen's errno values are Linux's, as RT_E* are; those rt.h lacks: */
#define XEN_ENOSPC		28

/* sched_op */
#define XEN_SCHEDOP_YIELD	0
#define XEN_SCHEDOP_SHUTDOWN	2
#define XEN_SCHEDOP_POLL	3
#define XEN_SHUTDOWN_POWEROFF	0
#define XEN_SHUTDOWN_CRASH	3

struct xen_sched_shutdown {
	uint32_t reason;
};

struct xen_sched_poll {
	uint64_t ports;		/* guest address of an array of uint32_t */
	uint32_t nr_ports;
	uint32_t pad;
	uint64_t timeout;	/* absolute system time, ns; 0: none */
};
_Static_assert(offsetof(struct xen_sched_poll, timeout) == 16, "sched_poll");

/* event_channel_op */
#define XEN_EVTCHNOP_CLOSE		3
#define XEN_EVTCHNOP_SEND		4
#define XEN_EVTCHNOP_ALLOC_UNBOUND	6

struct xen_evtchn_send {		/* also EVTCHNOP_close's */
	uint32_t port;
};

struct xen_evtchn_alloc_unbound {
	uint16_t dom;			/* DOMID_SELF */
	uint16_t remote_dom;		/* who may bind to it */
	uint32_t port;			/* out */
};
_Static_assert(sizeof(struct xen_evtchn_alloc_unbound) == 8, "alloc_unbound");

/* hvm_op and its parameters */
#define XEN_HVMOP_GET_PARAM		1
#define XEN_HVM_PARAM_STORE_PFN		1
#define XEN_HVM_PARAM_STORE_EVTCHN	2
#define XEN_HVM_PARAM_CONSOLE_PFN	17
#define XEN_HVM_PARAM_CONSOLE_EVTCHN	18

struct xen_hvm_param {
	uint16_t domid;
	uint16_t pad;
	uint32_t index;
	uint64_t value;
};
_Static_assert(offsetof(struct xen_hvm_param, value) == 8, "hvm_param");

/* memory_op: put the shared info page, or a frame of the grant table, at a
 * guest frame of our choosing (idx: which grant table frame) */
#define XEN_XENMEM_ADD_TO_PHYSMAP	7
#define XEN_XENMAPSPACE_SHARED_INFO	0
#define XEN_XENMAPSPACE_GRANT_TABLE	1

struct xen_add_to_physmap {
	uint16_t domid;
	uint16_t size;
	uint32_t space;
	uint64_t idx;
	uint64_t gpfn;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap");

/*
 * The shared info page (x86_64): 32 legacy vCPU slots of 64 bytes, the
 * 2-level event channel bitmaps, the wall clock.  A slot's time is Xen's
 * vcpu_time_info, which has the layout of the core's struct rt_pvclock
 * (system_time: ns since Xen booted).
 */
_Static_assert(sizeof(struct rt_pvclock) == 32, "vcpu_time_info");

struct xen_vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad0[6];
	uint64_t evtchn_pending_sel;
	uint64_t arch_cr2;
	uint64_t arch_pad;
	struct rt_pvclock time;
};
_Static_assert(sizeof(struct xen_vcpu_info) == 64, "vcpu_info");

#define XEN_LEGACY_VCPUS	32
#define XEN_EVTCHN_WORDS	64	/* 2-level ABI: 64 words of 64 ports */

struct xen_shared_info {
	struct xen_vcpu_info vcpu_info[XEN_LEGACY_VCPUS];
	uint64_t evtchn_pending[XEN_EVTCHN_WORDS];
	uint64_t evtchn_mask[XEN_EVTCHN_WORDS];
	uint32_t wc_version;	/* odd while Xen updates the wall clock */
	uint32_t wc_sec;	/* wall clock at system time 0 */
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
};
_Static_assert(offsetof(struct xen_shared_info, evtchn_pending) == 2048,
    "shared_info");
_Static_assert(offsetof(struct xen_shared_info, wc_version) == 3072,
    "shared_info");

/* The PV console ring page (io/console.h). */
#define XEN_CONS_IN_SIZE	1024
#define XEN_CONS_OUT_SIZE	2048

struct xen_cons_ring {
	char in[XEN_CONS_IN_SIZE];
	char out[XEN_CONS_OUT_SIZE];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};
_Static_assert(offsetof(struct xen_cons_ring, out_cons) == 3080, "console");

#define XEN_PAGE_SIZE	4096

/*
 * Grant table, version 1 (grant_table.h): an array of 8-byte entries over
 * the table's frames.  The guest writes domid and frame, then flags; Xen
 * sets GTF_reading/GTF_writing while the other domain uses the page.  The
 * first 8 entries are the toolstack's (console and xenstore rings).
 */
#define XEN_GTF_PERMIT_ACCESS	1
#define XEN_GTF_TYPE_MASK	3
#define XEN_GTF_READONLY	(1u << 2)
#define XEN_GTF_READING		(1u << 3)
#define XEN_GTF_WRITING		(1u << 4)
#define XEN_GNTTAB_RESERVED	8

struct xen_grant_entry {
	uint16_t flags;
	uint16_t domid;
	uint32_t frame;
};
_Static_assert(sizeof(struct xen_grant_entry) == 8, "grant_entry_v1");

/*
 * The xenstore ring page (io/xs_wire.h): requests and replies, each a
 * header and (len) bytes of payload, through two 1 KiB byte rings with
 * free-running indexes.
 */
#define XEN_XS_RING_SIZE	1024
#define XEN_XS_PAYLOAD_MAX	4096

struct xen_xs_ring {
	char req[XEN_XS_RING_SIZE];
	char rsp[XEN_XS_RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
};
_Static_assert(offsetof(struct xen_xs_ring, rsp_prod) == 2060, "xs ring");

#define XEN_XS_DIRECTORY	1
#define XEN_XS_READ		2
#define XEN_XS_WRITE		11
#define XEN_XS_WATCH_EVENT	15
#define XEN_XS_ERROR		16

struct xen_xs_msg {
	uint32_t type;
	uint32_t req_id;		/* echoed in the reply */
	uint32_t tx_id;			/* 0: no transaction */
	uint32_t len;			/* bytes of payload that follow */
};

/*
 * A hypercall: a call into the stub for (nr) in the hypercall page, with
 * the arguments in %rdi, %rsi, %rdx.  Xen returns in %rax (0 or a negative
 * Xen errno, Linux's values) and may scribble on every argument register
 * (debug builds do so on purpose), hence the in-out operands and the
 * clobbers.  (The call pushes onto the stack: the runtime is built with
 * -mno-red-zone, as anything that takes interrupts must be.)
 */
extern uint8_t xen_hypercall_page[XEN_PAGE_SIZE];
#define XEN_HYPERCALL_SECTION ".bss.xen_hypercall_page"

static inline long
xen_hypercall3(unsigned int nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t rdi __asm__("rdi") = a1;
	register uint64_t rsi __asm__("rsi") = a2;
	register uint64_t rdx __asm__("rdx") = a3;
	void *stub = xen_hypercall_page + nr * XEN_HC_STUB_SIZE;
	long ret;

	__asm__ volatile("call *%[stub]"
	    : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
	    : [stub] "r"(stub)
	    : "memory", "rcx", "r8", "r9", "r10", "r11");
	return ret;
}

static inline long
xen_hypercall2(unsigned int nr, uint64_t a1, const void *a2)
{
	return xen_hypercall3(nr, a1, (uint64_t)(uintptr_t)a2, 0);
}

/* Shared between the files here; set up by xen_init(). */
extern volatile struct xen_shared_info *xen_shared;	/* NULL if unmapped */

long xen_hvm_get_param(uint32_t index, uint64_t *value);
int xen_console_init(void);
void xen_console_mask(void);
int xen_clock_init(uint32_t leaf);

/* Event channels: declared in xenbus.h, which drivers use too. */

#endif
