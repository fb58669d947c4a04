/*
 * platform.c - which hypervisor we run on, from CPUID, once at boot.
 *
 * Every CPUID is a VM exit under KVM (tens of microseconds when nested),
 * so this asks as few leaves as it can, and only when CPUID.1 says a
 * hypervisor is there at all: 0x40000000, where KVM and QEMU's TCG put
 * their signature (on KVM that and the features leaf are all); if it is
 * not theirs, Xen's own search (runtime/xen/); then 0x40000100, where KVM
 * moves when it offers Hyper-V's leaves first.
 */
#include "../arch/x86_64/cpu.h"
#include "kernel.h"
#include "platform.h"

struct rt_platform rt_platform = { RT_PLATFORM_NONE, "none", 0, 0, 0, 0 };

/* Signatures as CPUID returns them in EBX, ECX, EDX (little-endian):
 * "KVMKVMKVM\0\0\0" and "TCGTCGTCGTCG". */
#define KVM_SIG		0x4b4d564bu, 0x564b4d56u, 0x0000004du
#define TCG_SIG		0x54474354u, 0x43544743u, 0x47435447u

static int
signature_is(const struct cpuid *r, uint32_t b, uint32_t c, uint32_t d)
{
	return r->ebx == b && r->ecx == c && r->edx == d;
}

/* 1 when (leaf) holds KVM's or TCG's signature: rt_platform is set. */
static int
kvm_or_tcg(uint32_t leaf)
{
	struct cpuid r = cpuid(leaf, 0);

	if (signature_is(&r, KVM_SIG)) {
		rt_platform.id = RT_PLATFORM_KVM;
		rt_platform.name = "kvm";
		rt_platform.leaf = leaf;
		if (r.eax >= leaf + 1)
			rt_platform.kvm_features = cpuid(leaf + 1, 0).eax;
		return 1;
	}
	if (signature_is(&r, TCG_SIG)) {
		rt_platform.id = RT_PLATFORM_TCG;
		rt_platform.name = "tcg";
		rt_platform.leaf = leaf;
		return 1;
	}
	return 0;
}

void
platform_detect(void)
{
	uint32_t leaf;

	rt_platform.cpuid1_ecx = cpuid(1, 0).ecx;
	if ((rt_platform.cpuid1_ecx & CPUID1_ECX_HYPERVISOR) == 0 ||
	    kvm_or_tcg(0x40000000))
		return;
	if ((leaf = xen_detect()) != 0) {
		rt_platform.id = RT_PLATFORM_XEN;
		rt_platform.name = "xen";
		rt_platform.leaf = leaf;
		return;
	}
	kvm_or_tcg(0x40000100);
}
