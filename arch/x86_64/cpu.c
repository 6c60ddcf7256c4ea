/*
 * cpu.c: descriptor tables and protection features of the boot CPU.
 *
 * GDT: null, kernel code 0x08, kernel data 0x10, user data 0x18 (0x1b),
 * user code 0x20 (0x23) (ordered for syscall/sysret), then the 64-bit TSS.
 * IDT: all 256 vectors point at entry.S stubs as interrupt gates (interrupts
 * off on entry).  #DF, NMI and #MC run on their own IST stacks once
 * arch_cpu_init_ist() has allocated them (with guard pages) - a kernel stack
 * overflow then ends in a clean #DF report instead of a triple fault.
 * arch_cpu_protect() turns on NX, SMEP, SMAP, UMIP and CR0.WP where CPUID
 * reports them.
 *
 * SMP: every CPU has its own GDT and TSS (in its struct percpu, so the TSS
 * descriptor's busy bit and the IST/rsp0 pointers are per CPU) and shares
 * the IDT.  The boot CPU sets its GS base first of all (percpu_init_boot);
 * arch_cpu_prepare_ap() allocates an AP's IST stacks on the boot CPU and
 * arch_cpu_init_ap() loads the tables on the AP itself.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <arch/x86.h>

#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_TSS   0x28

#define IST_DF  1
#define IST_NMI 2
#define IST_MC  3

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t trap_stub_table[256];

static const uint64_t cpu_gdt_template[7] = {
    0,
    0x00af9a000000ffff, /* 0x08 kernel code: 64-bit, DPL 0 */
    0x00cf92000000ffff, /* 0x10 kernel data */
    0x00cff2000000ffff, /* 0x18 user data, DPL 3 */
    0x00affa000000ffff, /* 0x20 user code: 64-bit, DPL 3 */
    0,
    0, /* 0x28 TSS (16 bytes), filled in below */
};
static struct idt_gate cpu_idt[256] __attribute__((aligned(16)));
static unsigned cpu_feat;

static void cpu_set_gate(unsigned v, uint64_t handler, unsigned ist)
{
	cpu_idt[v] = (struct idt_gate){
	    .off_lo = handler & 0xffff,
	    .sel = GDT_KCODE,
	    .ist = ist,
	    .type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
	    .off_mid = (handler >> 16) & 0xffff,
	    .off_hi = handler >> 32,
	};
}

/* Load p's GDT (with its TSS), reload the segments and TR, load the IDT. */
static void cpu_load_tables(struct percpu *p)
{
	uint64_t base = (uint64_t)&p->tss;
	uint64_t limit = sizeof(p->tss) - 1;
	struct desc_ptr gdtr = {sizeof(p->gdt) - 1, (uint64_t)p->gdt};
	struct desc_ptr idtr = {sizeof(cpu_idt) - 1, (uint64_t)cpu_idt};

	for (unsigned i = 0; i < 7; i++)
		p->gdt[i] = cpu_gdt_template[i];
	p->tss.iomap_base = sizeof(p->tss); /* no I/O bitmap */
	p->gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	            ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
	p->gdt[6] = base >> 32;

	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	/* Reload CS with a far return, then the data segments and TR.  Loading
	 * %gs clears the GS base: the caller sets it afterwards. */
	__asm__ volatile("pushq %0\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movl %1, %%eax\n\t"
	                 "movl %%eax, %%ds\n\t"
	                 "movl %%eax, %%es\n\t"
	                 "movl %%eax, %%ss\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "movl %%eax, %%fs\n\t"
	                 "movl %%eax, %%gs\n\t"
	                 :
	                 : "i"(GDT_KCODE), "i"(GDT_KDATA)
	                 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void arch_cpu_init(void)
{
	percpu_init_boot();
	for (unsigned v = 0; v < 256; v++)
		cpu_set_gate(v, trap_stub_table[v], 0);
	cpu_load_tables(percpu_of(0));
	percpu_load(percpu_of(0));
}

int arch_cpu_prepare_ap(struct percpu *p)
{
	static const char *const names[3] = {"ist-df-ap", "ist-nmi-ap", "ist-mc-ap"};

	for (unsigned i = 0; i < 3; i++) {
		struct mmu_stack s;
		int err = mmu_stack_alloc(names[i], IST_STACK_SIZE, &s);

		if (err)
			return err;
		p->tss.ist[i] = s.top; /* IST_DF, IST_NMI, IST_MC are 1, 2, 3 */
	}
	return 0;
}

void arch_cpu_init_ap(struct percpu *p)
{
	uint64_t ist[3] = {p->tss.ist[0], p->tss.ist[1], p->tss.ist[2]};

	cpu_load_tables(p);
	for (unsigned i = 0; i < 3; i++)
		p->tss.ist[i] = ist[i];
	percpu_load(p);
	/* The same protections as the boot CPU (CR4 and EFER are per CPU). */
	if (cpu_feat & ARCH_FEAT_NX)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP);
	write_cr4(read_cr4() | ((cpu_feat & ARCH_FEAT_SMEP) ? CR4_SMEP : 0) |
	          ((cpu_feat & ARCH_FEAT_SMAP) ? CR4_SMAP : 0) |
	          ((cpu_feat & ARCH_FEAT_UMIP) ? CR4_UMIP : 0));
}

int arch_cpu_init_ist(void)
{
	static const struct {
		unsigned vector, ist;
		const char *name;
	} ists[] = {
	    {TRAP_DF, IST_DF, "ist-df"},
	    {TRAP_NMI, IST_NMI, "ist-nmi"},
	    {TRAP_MC, IST_MC, "ist-mc"},
	};

	for (unsigned i = 0; i < sizeof(ists) / sizeof(ists[0]); i++) {
		struct mmu_stack s;
		int err = mmu_stack_alloc(ists[i].name, IST_STACK_SIZE, &s);

		if (err)
			return err;
		percpu_of(0)->tss.ist[ists[i].ist - 1] = s.top;
		cpu_set_gate(ists[i].vector, trap_stub_table[ists[i].vector], ists[i].ist);
	}
	return 0;
}

unsigned arch_cpu_protect(void)
{
	uint32_t a, b, c, d, max;
	uint64_t cr4 = read_cr4();

	cpuid(0x80000000, 0, &max, &b, &c, &d);
	if (max >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		if (d & (1u << 20)) {
			wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
			cpu_feat |= ARCH_FEAT_NX;
		}
	}
	write_cr0(read_cr0() | CR0_WP);
	cpu_feat |= ARCH_FEAT_WP;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		if (b & (1u << 7))
			cr4 |= CR4_SMEP, cpu_feat |= ARCH_FEAT_SMEP;
		if (b & (1u << 20))
			cr4 |= CR4_SMAP, cpu_feat |= ARCH_FEAT_SMAP;
		if (c & (1u << 2))
			cr4 |= CR4_UMIP, cpu_feat |= ARCH_FEAT_UMIP;
	}
	write_cr4(cr4);
	return cpu_feat;
}

unsigned arch_cpu_features(void)
{
	return cpu_feat;
}

void arch_halt(void)
{
	smp_halt_others();
	for (;;)
		__asm__ volatile("cli; hlt");
}

void arch_exit(unsigned code)
{
	smp_halt_others(); /* a panic on one CPU stops the others */
	outl(0xf4, code);
	/* No isa-debug-exit device (real hardware, other VMs): stop here. */
	arch_halt();
}
