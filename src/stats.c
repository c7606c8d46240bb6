/* stats.c - gem5-style statistics: "name value # description" between Begin/End lines. */
#include "stats.h"
#include "sys/sys.h"
#include "util.h"
#include <stdio.h>

static void line(FILE *f, const char *name, double v, const char *desc)
{
	if (v == (double)(uint64_t)v)
		fprintf(f, "%-48s %20llu  # %s\n", name, (unsigned long long)v, desc);
	else
		fprintf(f, "%-48s %20.6f  # %s\n", name, v, desc);
}

void stats_write(struct proc *p, const char *path, uint64_t wall_ns)
{
	FILE *f = fopen(path, "we");
	if (!f) {
		pr_warn("cannot write statistics to %s", path);
		return;
	}
	struct cpu_stats sum;
	const struct cpu_stats *c = &sum;
	p->cpu->ops->stats(p->cpu, &sum);
	double wall = (double)wall_ns / 1e9, guest = (double)c->guest_ns / 1e9;
	uint64_t exits = c->exits_syscall + c->exits_fault + c->exits_flush + c->exits_other;
	fputs("\n---------- Begin Simulation Statistics ----------\n", f);
	line(f, "host_seconds", wall, "Real time elapsed on the host (s)");
	line(f, "guest_seconds", guest, "Time spent running the guest inside KVM_RUN (s)");
	line(f, "kvmse_seconds", wall > guest ? wall - guest : 0, "Time spent in kvmse outside the guest (s)");
	line(f, "cpu.exits", (double)exits, "VM exits, all reasons");
	line(f, "cpu.exits.syscall", (double)c->exits_syscall, "VM exits for system calls");
	line(f, "cpu.exits.fault", (double)c->exits_fault, "VM exits for exceptions");
	line(f, "cpu.exits.flush", (double)c->exits_flush, "VM exits to apply a full page-table edit queue");
	line(f, "cpu.exits.other", (double)c->exits_other, "VM exits for other reasons (signals, interrupt windows)");
	line(f, "cpu.pte_replays", (double)c->pte_replays, "Page-table entries rewritten by the shim");
	line(f, "cpu.flush_irqs", (double)c->flush_irqs, "Flush interrupts injected");
	line(f, "cpu.kicks", (double)c->kicks, "Stops asked for by the SE layer (a signal to deliver)");
	line(f, "cpu.kick_windows", (double)c->kick_windows,
	     "Kicks that first waited for the shim's ring-0 code to return to the program");
	line(f, "cpu.syscalls.exit", (double)(c->exits_syscall - c->served_waited),
	     "System calls that took the exit path");
	line(f, "cpu.syscalls.exitless", (double)(c->served - c->served_waited),
	     "System calls answered through the channel with no exit (exits saved)");
	line(f, "cpu.syscalls.waited", (double)c->served_waited,
	     "Channel calls the program exited to wait for (blocking calls)");
	line(f, "cpu.server.spin_seconds", (double)c->server_spin_ns / 1e9,
	     "Time the syscall server polled an idle channel (s)");
	line(f, "cpu.server.naps", (double)c->server_sleeps, "Times the syscall server went to sleep");
	line(f, "cpu.server.wakeups", (double)c->server_wakeups, "Times it was woken (by an exit-path call, or to answer a wait)");
	line(f, "cpu.server.backoffs", (double)c->server_backoffs,
	     "Times it stood down after a call it answered late (blocked, or no free core)");
	uint64_t total = 0;
	for (unsigned nr = 0; nr < ARRAY_SIZE(p->ps->stats.syscalls); nr++)
		total += p->ps->stats.syscalls[nr];
	line(f, "se.syscalls", (double)total, "System calls emulated");
	line(f, "se.syscalls.unsupported", (double)p->ps->stats.syscalls_unknown, "System calls answered ENOSYS");
	for (unsigned nr = 0; nr < ARRAY_SIZE(p->ps->stats.syscalls); nr++) {
		if (!p->ps->stats.syscalls[nr])
			continue;
		char name[64];
		const char *n = sys_name(nr);
		if (n)
			snprintf(name, sizeof(name), "se.syscalls::%s", n);
		else
			snprintf(name, sizeof(name), "se.syscalls::%u", nr);
		line(f, name, (double)p->ps->stats.syscalls[nr], "Calls of this system call");
	}
	line(f, "se.page_faults", (double)p->ps->stats.page_faults, "Page faults taken by user code");
	line(f, "se.stack_growths", (double)p->ps->stats.stack_growths, "Page faults that grew the stack");
	line(f, "se.signals.handled", (double)p->ps->stats.signal_frames, "Signals delivered to a handler (frames built)");
	line(f, "se.signals.sigreturns", (double)p->ps->stats.syscalls[15], "Returns from handlers (rt_sigreturn)");
	line(f, "mem.pages_used", (double)p->mem->used_pages, "Guest-physical pages in use at exit");
	fputs("\n---------- End Simulation Statistics   ----------\n", f);
	if (fclose(f) != 0)
		pr_warn("cannot write statistics to %s", path);
}
