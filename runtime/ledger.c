/*
 * ledger.c - the references a run holds, released when the run is stopped
 * (runtime/exec.h, "References held by one run").
 *
 * A fixed array, oldest note first: a run holds at most V_MAX_REFS
 * references at once, so the notes are few and a linear search from the
 * newest end is the whole data structure.  No allocation, no locking: a
 * ledger belongs to one run on one CPU.
 */
#include "runtime/exec.h"

void rt_ledger_note_acquire(struct rt_ledger *l, uint64_t ref, rt_release_fn release)
{
	if (!l || !ref || !release)
		return;
	if (l->n >= RT_LEDGER_MAX) {
		l->overflow = true;
		return;
	}
	l->held[l->n].ref = ref;
	l->held[l->n].release = release;
	l->n++;
}

void rt_ledger_note_release(struct rt_ledger *l, uint64_t ref)
{
	uint32_t i;

	if (!l)
		return;
	for (i = l->n; i-- > 0;) {
		if (l->held[i].ref != ref)
			continue;
		/* Keep the order of the others: unwinding is newest first. */
		for (; i + 1 < l->n; i++)
			l->held[i] = l->held[i + 1];
		l->n--;
		return;
	}
}

void rt_ledger_unwind(struct rt_ledger *l)
{
	if (!l)
		return;
	/* Take each note off before releasing it, so a release procedure that
	 * strikes its own note (it is the releasing procedure) finds nothing. */
	while (l->n > 0) {
		struct rt_held h = l->held[--l->n];

		h.release(h.ref);
	}
}
