/*
 * verify.c - the verifier's driver (placeholder until the passes land).
 *
 * Refuses every program so that nothing unverified can ever run; the real
 * passes (verify_cfg.c, verify_state.c, verify_mem.c, verify_call.c,
 * verify_diag.c) replace this body.
 */
#include "runtime/verify.h"

int rt_verify(struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
	      const struct rt_verify_opts *opts, struct rt_verify_result *res)
{
	(void)p; (void)func; (void)entry; (void)opts;
	if (res) {
		memset(res, 0, sizeof(*res));
		res->code = 1;
		memcpy(res->msg, "verifier not yet implemented", 29);
	}
	return -RT_EREJECT;
}
