# The extension model's portable core: capabilities, externalized
# references, domains, the nameserver and the dispatcher (kernel/), the
# interface generator (tools/gen-interfaces.py), their host unit tests
# (suite "unit", see mk/unit.mk) and the host-native dispatch benchmark.

MODEL_SHIM := tests/ext-model/kheap_shim.c
UNIT_SRCS_cap += kernel/cap.c $(MODEL_SHIM)
UNIT_SRCS_extref += kernel/extref.c kernel/cap.c $(MODEL_SHIM)
UNIT_SRCS_dispatch += kernel/dispatch.c $(MODEL_SHIM)
