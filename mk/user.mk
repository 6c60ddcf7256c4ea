# User space (docs/userspace.md): the portable pieces' host unit tests,
# the user programs and their root file system archive, the test-user
# suite and the bench-user benchmark part.

UNIT_SRCS_elf_exec += kernel/elf_exec.c kernel/string.c
UNIT_CFLAGS_elf_exec += -DKSTRING_RENAME
UNIT_SRCS_ustack += kernel/ustack.c
UNIT_SRCS_rootfs += kernel/cpio.c kernel/rootfs.c tests/ext-model/kheap_shim.c
LX_SRCS := kernel/linux/lx_syscall.c kernel/linux/lx_fs.c kernel/linux/lx_mm.c
UNIT_SRCS_lx += $(LX_SRCS) kernel/cpio.c kernel/rootfs.c tests/unit/fake_umem.c \
                tests/ext-model/kheap_shim.c
