# User space (docs/userspace.md): the portable pieces' host unit tests,
# the user programs and their root file system archive, the test-user
# suite and the bench-user benchmark part.

UNIT_SRCS_elf_exec += kernel/elf_exec.c kernel/string.c
UNIT_CFLAGS_elf_exec += -DKSTRING_RENAME
UNIT_SRCS_ustack += kernel/ustack.c
UNIT_SRCS_rootfs += kernel/cpio.c kernel/rootfs.c tests/ext-model/kheap_shim.c
