# jvisor build. `make` builds build/jvisor; `make test` builds and runs every
# test; `make asan` builds the AddressSanitizer+UBSan variant in build-asan/.
CC ?= cc
BUILD ?= build
# The release version (jvisor --version, the man pages). The commit is asked
# from git at build time; from a tarball (no .git of its own): "unknown", or
# COMMIT=... on the make command line.
VERSION := 0.1.0
PKGS := javascriptcoregtk-4.1 libseccomp jansson libmicrohttpd libbpf
ASM_INCLUDE ?= /usr/include/x86_64-linux-gnu/asm

# The warning policy: warnings are errors.
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wformat-security -Wundef -Wpointer-arith -Wwrite-strings -Wvla \
	-Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter \
	-Wno-format-truncation

# pkg-config runs when a recipe first needs its answer, not when the Makefile is read:
# `make deps demo` installs the packages before anything is compiled, so the flags must
# be looked up after `deps` has run (each is computed once, on first use, then kept).
lazy = $(eval $1 := $$(shell $2))$($1)
PKG_CFLAGS = $(call lazy,PKG_CFLAGS,pkg-config --cflags $(PKGS) 2>/dev/null | sed 's/-I/-isystem /g')
PKG_LIBS = $(call lazy,PKG_LIBS,pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Isrc -I$(BUILD)/gen
LDLIBS += $(PKG_LIBS) -lm

ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# src/runc/ is jvisor-runc's own binary (no JavaScriptCore): not part of jvisor.
RUNC_SRCS := $(sort $(wildcard src/runc/*.c))
SRCS := $(filter-out $(RUNC_SRCS) %.bpf.c,$(sort $(wildcard src/*/*.c)))
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
DEPS := $(OBJS:.o=.d) $(RUNC_SRCS:%.c=$(BUILD)/obj/%.d)

LIB_OBJS := $(filter-out $(BUILD)/obj/src/cli/main.o,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNITS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
HELPERS := $(HELPER_SRCS:tests/helpers/%.c=$(BUILD)/helpers/%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCHES := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all helpers unit bench test asan test-asan check demo format format-check clean deps check-deps

all: $(BUILD)/jvisor $(BUILD)/jvisor-runc helpers man

check-deps:
	@pkg-config --exists $(PKGS) || { echo "missing build dependencies; run: make deps" >&2; exit 1; }

$(BUILD)/gen/syscall_names.inc: tools/gen-syscalls.sh src/syscalls/syscalls.tbl
	@mkdir -p $(@D)
	sh tools/gen-syscalls.sh $(ASM_INCLUDE) src/syscalls/syscalls.tbl > $@.tmp && mv $@.tmp $@

# The web viewer's page, embedded in the binary (docs/web.md).
$(BUILD)/gen/web_assets.inc: tools/gen-web-assets.sh $(wildcard src/web/assets/*)
	@mkdir -p $(@D)
	sh tools/gen-web-assets.sh src/web/assets > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/src/web/server.o: $(BUILD)/gen/web_assets.inc

# The BPF event source (src/bpf/, docs/log.md "Backends"): the kernel's types from
# its BTF (CI builds on the kernel it runs on), the program compiled by clang,
# embedded in jvisor as a bpftool skeleton.
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(BUILD)/gen/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/jvisor.bpf.o: src/bpf/jvisor.bpf.c src/bpf/event.h src/bpf/argfmatch.h src/syscalls/roles.h \
		$(BUILD)/gen/vmlinux.h
	@echo "  BPF     $<"
	@clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I$(BUILD)/gen -Isrc -c $< -o $@
$(BUILD)/gen/jvisor.skel.h: $(BUILD)/gen/jvisor.bpf.o
	$(BPFTOOL) gen skeleton $< name jvisor_bpf > $@.tmp && mv $@.tmp $@
# The part of the kernel's BTF the programs' CO-RE relocations need, and that
# BTF's fingerprint (src/bpf/backend.c: used when the running kernel matches).
$(BUILD)/gen/btfhash: tools/btfhash.c src/bpf/btfhash.h
	$(CC) -O2 -Wall -Werror -Isrc -o $@ $<
$(BUILD)/gen/min_btf.inc: $(BUILD)/gen/jvisor.bpf.o $(BUILD)/gen/btfhash tools/gen-min-btf.sh
	sh tools/gen-min-btf.sh $(BPFTOOL) $(VMLINUX_BTF) $< $(BUILD)/gen/btfhash > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/src/bpf/backend.o: $(BUILD)/gen/jvisor.skel.h $(BUILD)/gen/min_btf.inc
# version.h: rewritten only when the version or the commit changed (FORCE asks
# git every time; the compare keeps the object up to date otherwise). A git that
# cannot answer (sudo make install in a user's checkout: "dubious ownership")
# keeps the commit of the build.
GIT_COMMIT = $(shell [ "$$(git -C . rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
	git -C . describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
COMMIT ?= $(GIT_COMMIT)
.PHONY: FORCE
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define JV_VERSION "%s"\n#define JV_COMMIT "%s"\n' '$(VERSION)' '$(COMMIT)' > $@.tmp
	@if cmp -s $@.tmp $@ || { [ '$(COMMIT)' = unknown ] && grep -qs '"$(VERSION)"' $@; }; \
		then rm $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/src/cli/version.o: $(BUILD)/gen/version.h

$(BUILD)/obj/%.o: %.c $(BUILD)/gen/syscall_names.inc | check-deps
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/jvisor: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

# jvisor-runc: the OCI runtime wrapper (docs/containers.md); jansson and the
# house style's util/error only.
RUNC_OBJS := $(RUNC_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/src/common/util.o \
	$(BUILD)/obj/src/common/error.o
$(BUILD)/jvisor-runc: $(RUNC_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(RUNC_OBJS) $(shell pkg-config --libs jansson)

# The self-contained bundle a container mounts read-only: jvisor, every shared
# library it needs (ldd) and the ELF loader, started as
# DIR/ld.so --library-path DIR/lib DIR/jvisor (docs/containers.md).
BUNDLE ?= $(BUILD)/bundle
.PHONY: bundle
bundle: $(BUILD)/jvisor $(BUILD)/jvisor-runc
	sh tools/make-bundle.sh $(BUILD)/jvisor $(BUNDLE)

# Test helpers: the programs the tests trace. A name ending in -static is
# linked statically with musl-gcc.
$(BUILD)/helpers/%-static: tests/helpers/%-static.c
	@mkdir -p $(@D)
	musl-gcc -static -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -O1 -g -Wall -Wextra -Werror -pthread -o $@ $< -lpthread

helpers: $(HELPERS)

# C unit tests (Check) link every object but main's.
$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags check) -o $@ $< $(LIB_OBJS) \
		$(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs check)

unit: $(UNITS)
	@for t in $(UNITS); do echo "  UNIT    $$t"; $$t || exit 1; done

$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h)
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# observe-rate feeds jvisor's own observer queue: linked with its objects.
$(BUILD)/bench/observe-rate: bench/observe-rate.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJS) $(LDFLAGS) $(LDLIBS)

bench: $(BUILD)/jvisor $(BENCHES)

# Tests use Debian's python3 (with python3-pytest), whatever python3 is first in PATH.
PYTHON ?= /usr/bin/python3
test: all unit
	JVISOR=$(abspath $(BUILD)/jvisor) HELPERS=$(abspath $(BUILD)/helpers) \
		$(PYTHON) -m pytest -q -ra tests

# libFuzzer target of the control protocol's request parser (clang): `make fuzz`
# runs it for FUZZ_TIME seconds on a copy of tests/fuzz/corpus-proto.
FUZZ_TIME ?= 20
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Isrc $(shell pkg-config --cflags jansson 2>/dev/null)
$(BUILD)/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c src/control/proto.c src/control/proto.h \
		src/common/util.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_proto.c src/control/proto.c src/common/util.c \
		$(shell pkg-config --libs jansson 2>/dev/null)
.PHONY: fuzz
fuzz: $(BUILD)/fuzz/fuzz_proto
	rm -rf $(BUILD)/fuzz/corpus && mkdir -p $(BUILD)/fuzz/corpus
	cp tests/fuzz/corpus-proto/* $(BUILD)/fuzz/corpus/
	$(BUILD)/fuzz/fuzz_proto -max_total_time=$(FUZZ_TIME) -max_len=8192 -timeout=10 \
		-print_final_stats=1 $(BUILD)/fuzz/corpus

# Everything CI checks: style, the test suite, the suite again under ASan+UBSan, and
# the fuzz target for FUZZ_TIME seconds.
check: format-check test test-asan fuzz test-web

# The web viewer in a real browser (tests/web): playwright-core from the lockfile
# (npm ci, no browser download) drives Debian's chromium, headless. SHOTS=DIR also
# saves the screenshots of docs/ (make web-screenshots).
.PHONY: test-web web-screenshots
test-web: all
	cd tests/web && { [ -d node_modules/playwright-core ] || npm ci --ignore-scripts --no-audit --no-fund; }
	JVISOR=$(abspath $(BUILD)/jvisor) HELPERS=$(abspath $(BUILD)/helpers) SHOTS=$(SHOTS) \
		node tests/web/browser.test.mjs
web-screenshots:
	$(MAKE) test-web SHOTS=$(abspath docs)

# The bundled example: bind() fails with EADDRINUSE under a one-line hook.
demo: $(BUILD)/jvisor
	./examples/bind-in-use/run.sh $(abspath $(BUILD)/jvisor)

asan:
	$(MAKE) BUILD=build-asan SAN=1 all

test-asan:
	$(MAKE) BUILD=build-asan SAN=1 test

FORMAT_FILES = $(shell git ls-files 'src/*.c' 'src/*.h' 'tests/helpers/*.c' 'tests/unit/*.c' \
	'tests/fuzz/*.c' 'bench/*.c' 'bench/*.h')
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# Debian 12 packages needed to build and test (run as root).
DEB_PACKAGES := build-essential pkg-config libjavascriptcoregtk-4.1-dev libseccomp-dev \
	libjansson-dev libmicrohttpd-dev linux-libc-dev musl-tools check python3 python3-pytest clang-format strace clang \
	libclang-rt-14-dev bc curl iproute2 procps chromium groff-base man-db \
	podman runc containerd uidmap catatonit \
	libbpf-dev bpftool libelf-dev zlib1g-dev linux-perf
# Node.js and npm only run the browser test. Debian's npm conflicts with a
# nodejs that bundles npm (NodeSource's), so they are installed only if missing.
deps:
	apt-get update && apt-get install -y --no-install-recommends $(DEB_PACKAGES)
	command -v npm >/dev/null || apt-get install -y --no-install-recommends nodejs npm

# Man pages (man/, roff): the version filled in at build time.
MAN_SRCS := $(sort $(wildcard man/*.[1-8]))
MANS := $(MAN_SRCS:man/%=$(BUILD)/man/%)
$(BUILD)/man/%: man/% Makefile
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' $< > $@.tmp && mv $@.tmp $@
.PHONY: man
man: $(MANS)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binaries, the man pages, and
# the documentation and examples in share/doc/jvisor. make uninstall removes
# exactly those files (the directories that hold other packages' files stay).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/jvisor
DOC_FILES := README.md HACKING.md $(sort $(wildcard docs/*.md docs/*.png))
EXAMPLE_FILES := $(sort $(filter-out %/__pycache__,$(wildcard examples/*.md examples/*.sh examples/*/*)))
INSTALLED_MANS = $(foreach m,$(MAN_SRCS:man/%=%),$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m))
.PHONY: install uninstall
install: $(BUILD)/jvisor $(BUILD)/jvisor-runc $(MANS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/jvisor $(BUILD)/jvisor-runc $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do f=$${m##*/}; d=$(DESTDIR)$(MANDIR)/man$${f##*.}; \
		install -d $$d && install -m 644 $$m $$d/$$f || exit 1; done
	for f in $(DOC_FILES) $(EXAMPLE_FILES); do \
		install -D -m $$([ -x $$f ] && echo 755 || echo 644) $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; \
	done
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/jvisor $(DESTDIR)$(BINDIR)/jvisor-runc $(addprefix $(DESTDIR),$(INSTALLED_MANS))
	cd $(DESTDIR)$(DOCDIR) 2>/dev/null && rm -f $(DOC_FILES) $(EXAMPLE_FILES); \
	for d in $$(printf '%s\n' $(filter-out ./,$(sort $(dir $(DOC_FILES) $(EXAMPLE_FILES)))) | sort -r); do \
		rmdir $(DESTDIR)$(DOCDIR)/$$d 2>/dev/null; done; rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null; true

clean:
	rm -rf build build-asan

-include $(DEPS)
