# consent-milter: build, test, sanitizer check, fuzz, bench, install.
#
# Plain make and pkg-config.  User CFLAGS/LDFLAGS are added to the
# required flags, never replace them.  WERROR=1 turns warnings into errors
# (CI sets it).  SANITIZER=address|undefined|address,undefined builds
# instrumented binaries into their own build directory.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR	?=

CC	?= cc
CLANG	?= clang
CFLAGS	?= -O2 -g
LDFLAGS	?=

PKGS	:= lmdb libconfig libidn2 libsodium libmicrohttpd libsystemd libpq gmime-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Wpointer-arith -Wcast-qual
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
VERSION	:= 0.1.0
# The layers (see README, "Source layout"); includes name their folder.
SRCDIRS	:= util core milter unsubd ctl syncd
INCS	:= -Isrc
REQ_CFLAGS := -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(INCS) $(WARN) $(HARDEN) $(PKG_CFLAGS) -MMD -MP
REQ_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,--as-needed

ifeq ($(WERROR),1)
REQ_CFLAGS += -Werror
endif

comma	:= ,
SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD	?= build
else ifneq ($(filter $(SANITIZER),address undefined address$(comma)undefined),)
BUILD	?= build/san
REQ_CFLAGS += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
REQ_LDFLAGS += -fsanitize=$(SANITIZER)
else
$(error SANITIZER must be address, undefined or address,undefined)
endif

# The programs; each has its main in src/FOLDER/NAME.c.  Everything else
# goes into one library that the programs, tests and fuzz targets link.
MAINSRC	:= src/milter/consent-milter.c src/ctl/consentctl.c src/unsubd/consent-unsubd.c \
	   src/syncd/consent-syncd.c
PROGS	:= $(notdir $(MAINSRC:.c=))
LIBSRC	:= $(filter-out $(MAINSRC),$(wildcard $(SRCDIRS:%=src/%/*.c)))
LIBOBJ	:= $(LIBSRC:src/%.c=$(BUILD)/obj/%.o)
LIB	:= $(BUILD)/libconsent.a
BINS	:= $(PROGS:%=$(BUILD)/%)
LIBS	:= $(PKG_LIBS) -lmilter -lpthread -lm

UNITSRC	:= $(wildcard tests/unit/test_*.c)
UNITBIN	:= $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)

FUZZSRC	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZBIN	:= $(FUZZSRC:tests/fuzz/%.c=build/fuzz/%)
FUZZOBJ	:= $(LIBSRC:src/%.c=build/fuzz/obj/%.o)
FUZZFLAGS := -std=c11 -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(INCS) -g -O1 $(PKG_CFLAGS) \
	     -fsanitize=fuzzer-no-link,address,undefined
FUZZTIME ?= 10

BENCHSRC := $(wildcard tests/bench/bench_*.c)
BENCHBIN := $(BENCHSRC:tests/bench/%.c=$(BUILD)/tests/%)

ALL_CFLAGS  = $(REQ_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(REQ_LDFLAGS) $(LDFLAGS)

.SECONDARY:
.PHONY: all deps test test-run unit-run unit cli milter-tests integration check deb deb-test \
	fuzz fuzz-short bench demo install clean mutate soak soak-short

all: $(BINS)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIBOBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/consent-milter: $(BUILD)/obj/milter/consent-milter.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/consent-unsubd: $(BUILD)/obj/unsubd/consent-unsubd.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/consentctl: $(BUILD)/obj/ctl/consentctl.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/consent-syncd: $(BUILD)/obj/syncd/consent-syncd.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(BUILD)/tests/obj/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -c -o $@ $<

# Every unit test links the shared store fixture (tests/unit/fixture.c).
UNITFIX	:= $(BUILD)/tests/obj/fixture.o

$(BUILD)/tests/test_%: $(BUILD)/tests/obj/test_%.o $(UNITFIX) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(UNITFIX) $(LIB) $(LIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/tests/obj/bench_%.o: tests/bench/bench_%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/bench_%: $(BUILD)/tests/obj/bench_%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# Installs missing Debian packages (needs root on a fresh machine).
deps:
	@scripts/deps.sh

# The README's test command: installs what is missing, builds, runs
# every test (unit, CLI, miltertest, private Postfix, short fuzz).
test: deps
	$(MAKE) test-run

# The unit tests alone (the package build runs these).
unit-run: $(UNITBIN)
	@set -e; for t in $(UNITBIN); do $$t; done

test-run: $(BINS) $(UNITBIN)
	@BUILD=$(BUILD) FUZZ=$(if $(SANITIZER),0,1) tests/run-all.sh

# The suite checked against itself: each guarantee of the README broken
# on purpose, one at a time (tests/mutate/NAME.patch), in a scratch copy;
# every mutant must make its suites fail.  Minutes: not part of "test".
mutate: deps
	@tests/mutate/run.sh $(MUTANTS)

# The reliability soak (tests/soak/soak.sh): the filter in front of a
# private Postfix under SOAK_SESSIONS concurrent sessions for about
# SOAK_TIME seconds, through faults and hostile peers, every message
# checked at the sink.  soak-short is CI's: about 3-4 minutes.
SOAK_TIME ?= 1800
SOAK_SESSIONS ?= 200
soak: deps
	$(MAKE) $(BINS)
	@BUILD=$(BUILD) SOAK_TIME=$(SOAK_TIME) SOAK_SESSIONS=$(SOAK_SESSIONS) tests/soak/soak.sh

soak-short: deps
	$(MAKE) $(BINS)
	@BUILD=$(BUILD) SOAK_TIME=150 SOAK_SESSIONS=50 SOAK_IMPORT_ROWS=200000 \
		SOAK_KILLS=5 tests/soak/soak.sh

# The same tests again with AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	$(MAKE) SANITIZER=address,undefined test-run

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -c -o $@ $<

build/fuzz/libconsent.a: $(FUZZOBJ)
	rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libconsent.a
	@mkdir -p $(@D)
	$(CLANG) $(FUZZFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libconsent.a $(LIBS)

# Each fuzz target for FUZZTIME seconds, seeded from tests/fuzz/corpus/NAME.
fuzz: $(FUZZBIN)
	@tests/fuzz/run.sh $(FUZZTIME) $(FUZZBIN)

fuzz-short: $(FUZZBIN)
	@tests/fuzz/run.sh 5 $(FUZZBIN)

bench: deps
	$(MAKE) $(BINS) $(BENCHBIN)
	@BUILD=$(BUILD) tests/bench/run.sh

# The README's main job: the milter in front of a private Postfix.
demo: deps
	$(MAKE) $(BINS)
	@BUILD=$(BUILD) scripts/demo.sh

install: $(BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/consent-milter \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/consent-milter $(DESTDIR)$(SBINDIR)/consent-milter
	install -m 0755 $(BUILD)/consent-unsubd $(DESTDIR)$(SBINDIR)/consent-unsubd
	install -m 0755 $(BUILD)/consent-syncd $(DESTDIR)$(SBINDIR)/consent-syncd
	install -m 0755 $(BUILD)/consentctl $(DESTDIR)$(BINDIR)/consentctl
	install -m 0644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	for u in systemd/*.service; do \
		sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/bin/consentctl|$(BINDIR)/consentctl|g' \
		    $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#systemd/} || exit 1; \
	done
	install -m 0644 conf/consentctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/consentctl
	test -e $(DESTDIR)$(SYSCONFDIR)/consent-milter/consent-milter.conf || \
		install -m 0640 conf/consent-milter.conf \
		$(DESTDIR)$(SYSCONFDIR)/consent-milter/consent-milter.conf

# The Debian package (debian/), built from this tree into
# consent-milter_VERSION_ARCH.deb here, then checked with lintian.
deb: deps
	DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS) noautodbgsym" dpkg-buildpackage -us -uc -b
	mv ../consent-milter_$(VERSION)_*.deb ../consent-milter_$(VERSION)_*.buildinfo \
		../consent-milter_$(VERSION)_*.changes .
	lintian --fail-on error consent-milter_$(VERSION)_*.deb

# The Debian package installed in a fresh Debian 12 root (mmdebstrap).
deb-test: deb
	@tests/deb/test_deb_install.sh consent-milter_$(VERSION)_*.deb

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/obj/*.d build/fuzz/obj/*/*.d)
