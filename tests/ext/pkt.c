/* Accepted: typed references with fields; the entry gets a Pkt. */
#include "ext_api.h"

SEC("ext/pkt") int pkt(struct pkt *p)
{
	struct pkt *q = ext_pkt_get(0);
	u32 extra = q ? q->proto : 0;
	p->mark = p->len + extra;
	return p->proto == 17;
}
