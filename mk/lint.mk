# make fmt / make lint: formatting and static checks over the project's C.
# lint: format check; other fragments add their checks as prerequisites of lint
FMT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^build/')
.PHONY: fmt lint lint-format
fmt:
	clang-format -i $(FMT_SRCS)
lint-format:
	clang-format --dry-run -Werror $(FMT_SRCS)
lint: lint-format
