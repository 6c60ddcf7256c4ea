/*
 * smp.c: finding and starting the other CPUs, and inter-processor
 * interrupts (<arch/smp.h>).
 *
 * Finding them.  The ACPI MADT lists one "processor local APIC" (type 0) or
 * "local x2APIC" (type 9) entry per CPU; enabled or online-capable ones are
 * started.  The RSDP is searched where ACPI says it may be: the first KiB of
 * the EBDA and the BIOS area 0xe0000-0xfffff (qboot puts it there; so does
 * SeaBIOS, and OVMF is reached through GRUB, which copies it there too).
 * Firmware tables are outside the RAM the direct map covers, so each page
 * read is first mapped read-only into the direct map.  No RSDP or no MADT
 * means one CPU, said once on the console.
 *
 * Starting one.  The boot CPU prepares everything the AP needs in memory it
 * owns: a dense id and per-CPU area (percpu_claim), IST stacks with guard
 * pages (arch_cpu_prepare_ap), the AP's idle strand, whose stack the AP
 * starts on (sched_prepare_cpu), and the trampoline's parameter block.
 * Then INIT, SIPI, SIPI (the MP specification's sequence, with the waits
 * cut as below) and up to SMP_AP_TIMEOUT_MS for the AP to say it is online.
 * The 10 ms between INIT and SIPI is for the discrete 82489DX APICs of the
 * 486 era; CPUs with an integrated APIC of family 6 and later, and virtual
 * CPUs, need only the IPI to have been delivered (Linux's init_udelay:
 * 10 us), which a 10 ms sleep per AP turned into most of an SMP boot.  The
 * 200 us after the first SIPI is a deadline, not a sleep: the second SIPI
 * is only sent if the AP has not come online by then.  The AP, in
 * smp_ap_main: descriptor tables and GS base, the same CR0/CR4/EFER
 * protections, its local APIC and tick, the other services' per-CPU hooks,
 * and finally sched_start_cpu(), which adopts its stack as the idle strand
 * and never returns.  APs are started one at a time; an AP that misses its
 * deadline is reported and no further AP is started (the trampoline and
 * the parameter block could still be in use by it), so a late AP that
 * arrives after all finds `abandoned` set and halts.
 *
 * IPIs.  SMP_IPI_RESCHED only makes the target run its interrupt-exit
 * scheduling (the sender already set need_resched under the target's run
 * queue lock).  SMP_IPI_CALL runs the one pending smp_call_mask() request
 * (smp_call_all is the mask of every CPU); each target acknowledges by
 * decrementing a counter the caller spins on.  A CPU that waits for the
 * request slot with interrupts off runs a request addressed to it while it
 * spins, so two CPUs calling each other from the page-fault path (where
 * interrupts are off) cannot deadlock.
 * Halt is an NMI (it gets through with interrupts disabled): the NMI path
 * of trap.c asks smp_nmi_halt() first.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/switch.h>
#include <arch/x86.h>

#include "kernel/clock.h"
#include "kernel/cmdline.h"
#include "kernel/irq.h"
#include "kernel/kprintf.h"
#include "kernel/sched.h"
#include "kernel/string.h"

struct smp_tramp_params {
	uint64_t boot_cr3;
	uint64_t kernel_cr3;
	uint64_t stack_top;
	uint64_t percpu;
	uint64_t efer_bits;
};

extern const char smp_tramp_start[], smp_tramp_end[], smp_tramp_params[];
extern char boot_pml4[];
void smp_ap_main(struct percpu *p);

#define SMP_MAX_APIC_IDS 64

static uint32_t smp_apic_ids[SMP_MAX_APIC_IDS];
static unsigned smp_napic;
static volatile bool smp_halting;
static void (*smp_ap_hooks[4])(void);
static unsigned smp_nhooks;
static volatile bool smp_abandoned;
static uint64_t smp_ipis[PERCPU_MAX][2];

/* smp_call_mask's one request; smp_call_want[c] is set while CPU c has
 * not yet run it (whoever clears it runs it: the IPI or the CPU itself
 * while it waits for smp_call_lock). */
static volatile uint32_t smp_call_lock;
static void (*volatile smp_call_fn)(void *);
static void *volatile smp_call_arg;
static volatile uint32_t smp_call_pending;
static volatile uint32_t smp_call_want[PERCPU_MAX];

int smp_register_ap_init(void (*fn)(void))
{
	if (!fn || smp_nhooks == sizeof(smp_ap_hooks) / sizeof(smp_ap_hooks[0]))
		return -ENOSPC;
	smp_ap_hooks[smp_nhooks++] = fn;
	return 0;
}

/* ---- firmware tables ---- */

/* Make [pa, pa+len) readable through the direct map; NULL if it cannot be. */
static const void *smp_phys(uint64_t pa, uint64_t len)
{
	uint64_t lo = pa & ~(MMU_PAGE_SIZE - 1),
	         hi = (pa + len + MMU_PAGE_SIZE - 1) & ~(MMU_PAGE_SIZE - 1);

	if (len == 0 || len > (1u << 20) || pa + len > (1ull << 32))
		return 0;
	for (uint64_t p = lo; p < hi; p += MMU_PAGE_SIZE) {
		int err = mmu_map(DIRECT_MAP_BASE + p, p, MMU_PAGE_SIZE, 0);

		if (err && err != -EEXIST)
			return 0;
	}
	return phys_to_virt(pa);
}

static bool smp_checksum_ok(const uint8_t *p, uint64_t len)
{
	uint8_t sum = 0;

	for (uint64_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

static uint64_t smp_find_rsdp_in(uint64_t pa, uint64_t len)
{
	const uint8_t *p = smp_phys(pa, len);

	if (!p)
		return 0;
	for (uint64_t off = 0; off + 20 <= len; off += 16)
		if (memcmp(p + off, "RSD PTR ", 8) == 0 && smp_checksum_ok(p + off, 20))
			return pa + off;
	return 0;
}

struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

/* A checked table at pa, or NULL. */
static const struct acpi_header *smp_table(uint64_t pa)
{
	const struct acpi_header *h = smp_phys(pa, sizeof(*h));

	if (!h || h->length < sizeof(*h))
		return 0;
	h = smp_phys(pa, h->length);
	return h && smp_checksum_ok((const uint8_t *)h, h->length) ? h : 0;
}

static void smp_parse_madt(const struct acpi_header *madt)
{
	const uint8_t *p = (const uint8_t *)madt + sizeof(*madt) + 8,
	              *end = (const uint8_t *)madt + madt->length;

	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t id = UINT32_MAX, flags = 0;

		if (p[0] == 0 && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
		} else if (p[0] == 9 && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
		}
		if (id != UINT32_MAX && (flags & 3) && smp_napic < SMP_MAX_APIC_IDS)
			smp_apic_ids[smp_napic++] = id;
		p += p[1];
	}
}

/* Fill smp_apic_ids from the MADT; returns a phrase saying why not, or NULL. */
static const char *smp_find_cpus(void)
{
	const uint16_t *ebda_seg = smp_phys(0x40e, 2);
	uint64_t rsdp_pa = 0, root;
	const uint8_t *rsdp;
	const struct acpi_header *rt;
	bool x;

	if (ebda_seg && *ebda_seg)
		rsdp_pa = smp_find_rsdp_in((uint64_t)*ebda_seg << 4, 1024);
	if (!rsdp_pa)
		rsdp_pa = smp_find_rsdp_in(0xe0000, 0x20000);
	if (!rsdp_pa)
		return "no ACPI RSDP in the EBDA or BIOS area";
	rsdp = smp_phys(rsdp_pa, 36);
	x = rsdp[15] >= 2 && smp_checksum_ok(rsdp, 36);
	if (x)
		memcpy(&root, rsdp + 24, 8);
	else {
		uint32_t r32;

		memcpy(&r32, rsdp + 16, 4);
		root = r32;
	}
	rt = smp_table(root);
	if (!rt)
		return "the ACPI root table is unreadable or has a bad checksum";
	for (uint32_t off = sizeof(*rt); off + (x ? 8 : 4) <= rt->length; off += x ? 8 : 4) {
		uint64_t pa = 0;
		const struct acpi_header *t;

		memcpy(&pa, (const uint8_t *)rt + off, x ? 8 : 4);
		t = smp_table(pa);
		if (t && memcmp(t->sig, "APIC", 4) == 0) {
			smp_parse_madt(t);
			return smp_napic ? 0 : "the MADT lists no enabled CPU";
		}
	}
	return "no MADT in the ACPI tables";
}

/* ---- IPIs ---- */

static void smp_ipi_resched(unsigned vector, void *arg)
{
	(void)vector;
	(void)arg;
	smp_ipis[cpu_id()][0]++;
	/* Nothing else: trap_dispatch calls sched_irq_exit() next. */
}

/* Run the pending request if it is addressed to this CPU (interrupts off). */
static void smp_call_run_mine(void)
{
	if (!__atomic_exchange_n(&smp_call_want[cpu_id()], 0, __ATOMIC_ACQUIRE))
		return;
	smp_call_fn(smp_call_arg);
	__atomic_sub_fetch(&smp_call_pending, 1, __ATOMIC_RELEASE);
}

static void smp_ipi_call(unsigned vector, void *arg)
{
	(void)vector;
	(void)arg;
	smp_ipis[cpu_id()][1]++;
	/* Nothing to do if this CPU already ran it while waiting for the lock. */
	smp_call_run_mine();
}

static void smp_ap_tick(unsigned vector, void *arg)
{
	(void)vector;
	(void)arg;
	/* The tick count is CPU 0's; sched_irq_exit() on this CPU reads it. */
}

uint64_t smp_ipi_count(unsigned cpu, unsigned vector)
{
	if (cpu >= PERCPU_MAX)
		return 0;
	return vector == SMP_IPI_RESCHED ? smp_ipis[cpu][0]
	       : vector == SMP_IPI_CALL  ? smp_ipis[cpu][1]
	                                 : 0;
}

void smp_send_resched(unsigned cpu)
{
	if (cpu != cpu_id() && percpu_online(cpu))
		apic_send_icr(percpu_of(cpu)->apic_id,
		              APIC_ICR_FIXED | APIC_ICR_ASSERT | SMP_IPI_RESCHED);
}

int smp_call_mask(uint64_t mask, void (*fn)(void *arg), void *arg)
{
	unsigned n = percpu_count(), self;
	uint64_t others;
	unsigned long f;

	if (!fn)
		return -EINVAL;
	/* Interrupts stay off throughout: the caller cannot migrate between
	 * choosing "self" and running fn here, and a caller that arrived with
	 * them off (the page-fault path) is not re-enabled behind its back. */
	f = arch_irq_save();
	self = cpu_id();
	if (n < 64)
		mask &= (1ull << n) - 1;
	others = mask & ~(1ull << self);
	if (others) {
		/* While another CPU holds the lock it may be waiting for us, and
		 * with interrupts off its IPI cannot get in: answer it here. */
		while (__atomic_exchange_n(&smp_call_lock, 1, __ATOMIC_ACQUIRE)) {
			smp_call_run_mine();
			arch_cpu_relax();
		}
		uint32_t count = 0;

		for (uint64_t m = others; m; m &= m - 1)
			count++; /* (no libgcc popcount in the kernel) */
		smp_call_fn = fn;
		smp_call_arg = arg;
		__atomic_store_n(&smp_call_pending, count, __ATOMIC_RELEASE);
		for (unsigned c = 0; c < n; c++) {
			if (!(others & (1ull << c)))
				continue;
			__atomic_store_n(&smp_call_want[c], 1, __ATOMIC_RELEASE);
			apic_send_icr(percpu_of(c)->apic_id,
			              APIC_ICR_FIXED | APIC_ICR_ASSERT | SMP_IPI_CALL);
		}
	}
	if (mask & (1ull << self))
		fn(arg);
	if (others) {
		while (__atomic_load_n(&smp_call_pending, __ATOMIC_ACQUIRE))
			arch_cpu_relax();
		__atomic_store_n(&smp_call_lock, 0, __ATOMIC_RELEASE);
	}
	arch_irq_restore(f);
	return 0;
}

int smp_call_all(void (*fn)(void *arg), void *arg)
{
	unsigned n = percpu_count();

	if (!fn)
		return -EINVAL;
	if (n > 1 && !arch_irq_enabled())
		return -EINVAL; /* the documented rule; smp_call_mask is the one for faults */
	return smp_call_mask(~0ull, fn, arg);
}

struct smp_flush {
	uintptr_t va;
	uint64_t len;
};

static void smp_flush_local(void *arg)
{
	const struct smp_flush *r = arg;

	for (uint64_t off = 0; off < r->len; off += MMU_PAGE_SIZE)
		invlpg(r->va + off);
}

void smp_tlb_flush_all(uintptr_t va, uint64_t len)
{
	struct smp_flush r = {va & ~(MMU_PAGE_SIZE - 1), len + (va & (MMU_PAGE_SIZE - 1))};

	if (percpu_count() < 2)
		smp_flush_local(&r);
	else
		smp_call_all(smp_flush_local, &r);
}

void smp_halt_others(void)
{
	unsigned n = percpu_count(), self;

	if (n < 2 || __atomic_exchange_n(&smp_halting, true, __ATOMIC_ACQ_REL))
		return;
	self = cpu_id();
	for (unsigned c = 0; c < n; c++)
		if (c != self)
			apic_send_icr(percpu_of(c)->apic_id, APIC_ICR_NMI | APIC_ICR_ASSERT);
}

bool smp_nmi_halt(void)
{
	if (!smp_halting)
		return false;
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- bring-up ---- */

void smp_ap_main(struct percpu *p)
{
	if (smp_abandoned) {
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	arch_cpu_init_ap(p);
	if (apic_init_ap(SMP_IRQ_AP_TICK))
		kprintf("smp: CPU %u: no local APIC; it runs without a tick\n", p->id);
	for (unsigned i = 0; i < smp_nhooks; i++)
		smp_ap_hooks[i]();
	sched_start_cpu(); /* marks p online; never returns */
}

static void smp_delay_us(uint64_t us)
{
	clock_delay_ns(us * 1000);
}

/* INIT-to-SIPI wait: 10 us on a family 6+ CPU or under a hypervisor, else
 * the MP specification's 10 ms (see the top of the file). */
static uint64_t smp_init_delay_us(void)
{
	uint32_t a, b, c, d, family;

	cpuid(1, 0, &a, &b, &c, &d);
	family = (a >> 8) & 0xf;
	if (family == 0xf)
		family += (a >> 20) & 0xff;
	return family >= 6 || (c & (1u << 31)) ? 10 : 10000;
}

/* Wait up to us microseconds for p to come online; true if it did. */
static bool smp_wait_online(struct percpu *p, uint64_t us)
{
	uint64_t t0 = clock_ns();

	while (!__atomic_load_n(&p->online, __ATOMIC_ACQUIRE)) {
		if (clock_ns() - t0 > us * 1000)
			return false;
		arch_cpu_relax();
	}
	return true;
}

/* Start the CPU with APIC id apic_id; true once it runs the scheduler. */
static bool smp_start_ap(uint32_t apic_id)
{
	struct smp_tramp_params *tp =
	    (void *)((char *)phys_to_virt(SMP_TRAMP_PHYS) + (smp_tramp_params - smp_tramp_start));
	struct percpu *p = percpu_claim(apic_id);
	uintptr_t stack_top;
	uint64_t t0;
	int err;

	if (!p) {
		kprintf("smp: more than %d CPUs; APIC id %u and later stay off\n", PERCPU_MAX,
		        apic_id);
		return false;
	}
	err = arch_cpu_prepare_ap(p);
	if (!err)
		err = sched_prepare_cpu(p->id, &stack_top);
	if (err) {
		kprintf("smp: no memory to start CPU %u (APIC id %u): %d\n", p->id, apic_id, err);
		return false;
	}
	tp->boot_cr3 = virt_to_phys(boot_pml4);
	tp->kernel_cr3 = read_cr3();
	tp->stack_top = stack_top;
	tp->percpu = (uint64_t)(uintptr_t)p;
	tp->efer_bits = EFER_LME | (rdmsr(MSR_EFER) & EFER_NXE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	apic_send_icr(apic_id, APIC_ICR_INIT | APIC_ICR_ASSERT);
	smp_delay_us(smp_init_delay_us());
	for (int i = 0; i < 2; i++) {
		apic_send_icr(apic_id, APIC_ICR_SIPI | APIC_ICR_ASSERT | (SMP_TRAMP_PHYS >> 12));
		if (smp_wait_online(p, 200))
			return true;
	}
	t0 = clock_ns();
	while (!__atomic_load_n(&p->online, __ATOMIC_ACQUIRE)) {
		if (clock_ns() - t0 > SMP_AP_TIMEOUT_MS * 1000000ull) {
			smp_abandoned = true;
			kprintf("smp: CPU %u (APIC id %u) did not come up within %d ms; continuing"
			        " with %u CPU(s) and starting no further APs\n",
			        p->id, apic_id, SMP_AP_TIMEOUT_MS, percpu_count());
			return false;
		}
		arch_cpu_relax();
	}
	return true;
}

unsigned smp_init(void)
{
	const char *why;
	uint32_t self = apic_self_id();
	char buf[8];
	unsigned max = PERCPU_MAX;
	int err;

	percpu_of(0)->apic_id = self;
	err = irq_register(SMP_IPI_RESCHED, smp_ipi_resched, 0);
	if (!err)
		err = irq_register(SMP_IPI_CALL, smp_ipi_call, 0);
	if (!err)
		err = irq_register(SMP_IRQ_AP_TICK, smp_ap_tick, 0);
	if (err) {
		kprintf("smp: cannot register the IPI vectors (%d); one CPU\n", err);
		return 1;
	}
	why = smp_find_cpus();
	if (why) {
		kprintf("smp: %s; one CPU\n", why);
		return 1;
	}
	if (cmdline_value("maxcpus", buf, sizeof(buf)) && buf[0] >= '1' && buf[0] <= '9')
		max = (unsigned)(buf[0] - '0');
	if (smp_napic > 1 && max > 1) {
		uintptr_t tramp = DIRECT_MAP_BASE + SMP_TRAMP_PHYS;
		uint64_t len = (uint64_t)(smp_tramp_end - smp_tramp_start), pa = 0;
		unsigned fl = 0;

		err = mmu_map(tramp, SMP_TRAMP_PHYS, MMU_PAGE_SIZE, MMU_W);
		if ((err && err != -EEXIST) || !mmu_query(tramp, &pa, &fl) || !(fl & MMU_W) ||
		    pa != SMP_TRAMP_PHYS || len > MMU_PAGE_SIZE) {
			kprintf("smp: cannot map the trampoline page at %#x (%d); one CPU\n",
			        SMP_TRAMP_PHYS, err);
			return 1;
		}
		memcpy((void *)tramp, smp_tramp_start, len);
		for (unsigned i = 0; i < smp_napic && percpu_count() < max; i++) {
			if (smp_apic_ids[i] == self)
				continue;
			if (!smp_start_ap(smp_apic_ids[i]))
				break;
		}
	}
	kprintf("smp: %u of %u CPU(s) online (MADT), boot CPU APIC id %u\n", percpu_count(),
	        smp_napic, self);
	return percpu_count();
}
