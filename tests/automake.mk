# Unit test driver for lib/ (the engine), in the manner of OVS's ovstest.
check_PROGRAMS += tests/ovs-vhu-test
tests_ovs_vhu_test_SOURCES = \
	tests/dev-harness.c \
	tests/dev-harness.h \
	tests/ovs-vhu-test.c \
	tests/ovs-vhu-test.h \
	tests/test-attack.c \
	tests/test-dev.c \
	tests/test-dev-multiqueue.c \
	tests/test-dev-packed.c \
	tests/test-dev-protocol.c \
	tests/test-dev-reconnect.c \
	tests/test-dev-split.c \
	tests/test-frontend.c \
	tests/test-mem.c \
	tests/test-msg.c \
	tests/test-ring-state.c \
	tests/test-sock-dir.c \
	tests/vhu-frontend.c \
	tests/vhu-frontend.h
tests_ovs_vhu_test_LDADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)

# Fuzz targets (tests/fuzz/, Documentation/fuzzing.md).  The replay driver
# runs them on saved inputs, the seed corpora and the regression inputs
# (tests/fuzz.at), and writes the seed corpora (--make-seeds).
FUZZ_TARGETS = msg split packed net-hdr
FUZZ_TARGET_SOURCES = \
	tests/fuzz/fuzz.h \
	tests/fuzz/fuzz-common.c \
	tests/fuzz/fuzz-msg.c \
	tests/fuzz/fuzz-net-hdr.c \
	tests/fuzz/fuzz-packed.c \
	tests/fuzz/fuzz-split.c
check_PROGRAMS += tests/ovs-vhu-fuzz-replay
tests_ovs_vhu_fuzz_replay_SOURCES = \
	$(FUZZ_TARGET_SOURCES) \
	tests/fuzz/fuzz-replay.c \
	tests/fuzz/fuzz-seeds.c \
	tests/vhu-frontend.c \
	tests/vhu-frontend.h
tests_ovs_vhu_fuzz_replay_CPPFLAGS = $(AM_CPPFLAGS) -I$(srcdir)/tests
tests_ovs_vhu_fuzz_replay_LDADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)
EXTRA_DIST += \
	tests/fuzz/fuzz-libfuzzer.c \
	tests/fuzz/corpus \
	tests/fuzz/regressions

# clang's thread-safety analysis over every C source (tests/thread-safety.at
# runs it; see the script).  The fuzz targets' libFuzzer driver and the
# burst-cost harness are not in any program of this build, but are ours
# too.
TSA_SOURCES = $(sort $(filter %.c, \
	$(lib_libvhu_la_SOURCES) \
	$(vswitchd_plugin_libovs_vhu_la_SOURCES) \
	$(vswitchd_plugin_ovs_vswitchd_SOURCES) \
	$(tests_ovs_vhu_test_SOURCES) \
	$(tests_ovs_vhu_fuzz_replay_SOURCES) \
	$(devtools_vhu_bench_SOURCES) \
	tests/fuzz/fuzz-libfuzzer.c \
	devtools/burst-cost-harness.c))
TSA_INCLUDES = \
	-I$(abs_top_builddir) -I$(abs_top_srcdir) \
	-I$(abs_top_srcdir)/lib -I$(abs_top_srcdir)/vswitchd-plugin \
	-I$(abs_top_srcdir)/tests \
	-I$(OVS_SRCDIR)/include -I$(OVS_BUILDDIR)/include \
	-I$(OVS_SRCDIR)/lib -I$(OVS_BUILDDIR)/lib -I$(OVS_BUILDDIR)
check_SCRIPTS += tests/clang-thread-safety
CLEANFILES += tests/clang-thread-safety
EXTRA_DIST += \
	tests/clang-thread-safety.in \
	tests/thread-safety-negative.c
tests/clang-thread-safety: tests/clang-thread-safety.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tests && \
	sed -e 's|[@]CLANG[@]|$(CLANG)|g' \
	    -e 's|[@]abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    -e 's|[@]TSA_INCLUDES[@]|$(TSA_INCLUDES)|g' \
	    -e 's|[@]TSA_SOURCES[@]|$(TSA_SOURCES)|g' \
	    $(srcdir)/tests/clang-thread-safety.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# The autotest suites.  OVS's own test macros (OVS_VSWITCHD_START and
# friends) come from the Open vSwitch source tree, reached through
# autom4te's include path.
TESTSUITE_AT = \
	tests/testsuite.at \
	tests/ovs-vhu-macros.at \
	tests/library.at \
	tests/dev.at \
	tests/dev-packed.at \
	tests/bench.at \
	tests/configure.at \
	tests/netdev-traffic.at \
	tests/netdev-packed.at \
	tests/netdev-vhu.at \
	tests/netdev-restart.at \
	tests/negative.at \
	tests/fuzz.at \
	tests/thread-safety.at \
	tests/devtools.at
SYSTEM_TESTSUITE_AT = \
	tests/system-testsuite.at \
	tests/ovs-vhu-macros.at \
	tests/system-sandbox.at \
	tests/system-qemu.at \
	tests/system-switch.at \
	tests/system-testpmd.at \
	tests/system-soak.at \
	tests/system-bench.at
PACKAGING_TESTSUITE_AT = \
	tests/packaging-testsuite.at \
	tests/ovs-vhu-macros.at \
	tests/packaging-dist.at \
	tests/packaging-deb.at \
	tests/packaging-rpm.at
TESTSUITE = $(srcdir)/tests/testsuite
SYSTEM_TESTSUITE = $(srcdir)/tests/system-testsuite
PACKAGING_TESTSUITE = $(srcdir)/tests/packaging-testsuite
TESTSUITE_DIR = $(abs_top_builddir)/tests/testsuite.dir
SYSTEM_TESTSUITE_DIR = $(abs_top_builddir)/tests/system-testsuite.dir

EXTRA_DIST += \
	$(TESTSUITE_AT) \
	$(SYSTEM_TESTSUITE_AT) \
	$(PACKAGING_TESTSUITE_AT) \
	$(TESTSUITE) \
	$(SYSTEM_TESTSUITE) \
	$(PACKAGING_TESTSUITE) \
	tests/atlocal.in \
	tests/netns/ovs-vswitchd \
	tests/samples \
	tests/vhu-qemu-guest \
	package.m4
DISTCLEANFILES += tests/atconfig tests/atlocal
check_SCRIPTS += tests/atlocal

# Directories searched for programs, in order: the wrapper that gives every
# ovs-vswitchd a network namespace of its own, our ovs-vswitchd, our test
# programs, the operators' and the developers' tools, then the tools of the
# Open vSwitch build we compile against.
AUTOTEST_PATH = tests/netns:vswitchd-plugin:tests:utilities:devtools:$(OVS_BUILDDIR)/utilities:$(OVS_BUILDDIR)/ovsdb

AUTOTEST = $(AUTOM4TE) --language=autotest -I '$(srcdir)' -I '$(OVS_SRCDIR)'

$(srcdir)/package.m4: $(top_srcdir)/configure.ac
	$(AM_V_GEN){ \
	  echo '# Signature of the current package.' && \
	  echo 'm4_define([AT_PACKAGE_NAME],      [$(PACKAGE_NAME)])' && \
	  echo 'm4_define([AT_PACKAGE_TARNAME],   [$(PACKAGE_TARNAME)])' && \
	  echo 'm4_define([AT_PACKAGE_VERSION],   [$(PACKAGE_VERSION)])' && \
	  echo 'm4_define([AT_PACKAGE_STRING],    [$(PACKAGE_STRING)])' && \
	  echo 'm4_define([AT_PACKAGE_BUGREPORT], [$(PACKAGE_BUGREPORT)])'; \
	} > $@.tmp && mv $@.tmp $@

$(TESTSUITE): $(srcdir)/package.m4 $(TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -o $@.tmp $@.at && mv $@.tmp $@

$(SYSTEM_TESTSUITE): $(srcdir)/package.m4 $(SYSTEM_TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -o $@.tmp $@.at && mv $@.tmp $@

$(PACKAGING_TESTSUITE): $(srcdir)/package.m4 $(PACKAGING_TESTSUITE_AT)
	$(AM_V_GEN)$(AUTOTEST) -o $@.tmp $@.at && mv $@.tmp $@

# "make check" runs the unit and autotest suites; they need no root.
# "make check" runs two tests at a time (each test waits for conditions,
# never for a fixed time, so they hold on a busy host); TESTSUITEFLAGS=-j1,
# or any -jN, overrides it.  "make check-sanitizers" runs one at a time
# until its suite has been tried two at a time.
TESTSUITE_JOBS = -j2
check-local: $(TESTSUITE) tests/atlocal all
	$(SHELL) '$(TESTSUITE)' -C tests AUTOTEST_PATH='$(AUTOTEST_PATH)' \
		$(TESTSUITE_JOBS) $(TESTSUITEFLAGS)

# "make check-system" runs the system tests: real network namespaces and,
# as the datapath lands, real frontends.  They need root.
check-system: $(SYSTEM_TESTSUITE) tests/atlocal all $(check_PROGRAMS)
	$(SHELL) '$(SYSTEM_TESTSUITE)' -C tests \
		AUTOTEST_PATH='$(AUTOTEST_PATH)' $(TESTSUITEFLAGS)
.PHONY: check-system

# "make check-packaging" runs the packaging tests: "make dist" and "make
# distcheck", the Debian package built from a clone, installed into this
# machine, run through openvswitch-switch's service script and removed, and
# the RPM spec.  They need root and a clone.  Three run at once by default:
# much of each is a configure script or a link, one CPU's work.  They share
# one "make dist" tarball, made first and kept apart in tests/packaging/
# (a "make dist" of their own in this tree would race with the others').
PACKAGING_TARBALL = tests/packaging/$(distdir).tar.gz
check-packaging: $(PACKAGING_TESTSUITE) tests/atlocal all $(check_PROGRAMS)
	$(MAKE) $(AM_MAKEFLAGS) dist
	$(MKDIR_P) tests/packaging
	mv $(distdir).tar.gz $(PACKAGING_TARBALL)
	$(SHELL) '$(PACKAGING_TESTSUITE)' -C tests \
		AUTOTEST_PATH='tests' \
		VHU_TARBALL='$(abs_builddir)/$(PACKAGING_TARBALL)' \
		-j3 $(TESTSUITEFLAGS)
.PHONY: check-packaging

clean-local: clean-testsuites
clean-testsuites:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean
	test ! -f '$(SYSTEM_TESTSUITE)' \
	  || $(SHELL) '$(SYSTEM_TESTSUITE)' -C tests --clean
	test ! -f '$(PACKAGING_TESTSUITE)' \
	  || $(SHELL) '$(PACKAGING_TESTSUITE)' -C tests --clean
	rm -rf tests/packaging
.PHONY: clean-testsuites

# The engine, the module, our ovs-vswitchd, the unit test driver and the
# bench again, built with AddressSanitizer and UndefinedBehaviorSanitizer
# (Open vSwitch's own libraries stay as they are), for "make
# check-sanitizers": the unit and autotest suites run on them, and a test
# fails on any sanitizer report (ovs_cleanup in OVS's tests/ovs-macros.at
# looks for the asan.* and ubsan.* logs that tests/atlocal asks for).
SANITIZER_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer
check_PROGRAMS += \
	tests/sanitized/ovs-vswitchd \
	tests/sanitized/ovs-vhu-test \
	tests/sanitized/vhu-bench \
	tests/sanitized/ovs-vhu-fuzz-replay
tests_sanitized_ovs_vswitchd_SOURCES = \
	$(vswitchd_plugin_ovs_vswitchd_SOURCES) \
	$(vswitchd_plugin_libovs_vhu_la_SOURCES) \
	$(lib_libvhu_la_SOURCES)
tests_sanitized_ovs_vswitchd_CFLAGS = $(AM_CFLAGS) $(SANITIZER_FLAGS)
tests_sanitized_ovs_vswitchd_LDFLAGS = $(SANITIZER_FLAGS)
tests_sanitized_ovs_vswitchd_LDADD = \
	$(OVS_VSWITCHD_OBJECTS) \
	$(OVS_LIBOFPROTO) \
	$(OVS_LIBSFLOW) \
	$(OVS_LIBOPENVSWITCH)
tests_sanitized_ovs_vhu_test_SOURCES = \
	$(tests_ovs_vhu_test_SOURCES) \
	$(lib_libvhu_la_SOURCES)
tests_sanitized_ovs_vhu_test_CFLAGS = $(AM_CFLAGS) $(SANITIZER_FLAGS)
tests_sanitized_ovs_vhu_test_LDFLAGS = $(SANITIZER_FLAGS)
tests_sanitized_ovs_vhu_test_LDADD = $(OVS_LIBOPENVSWITCH)
tests_sanitized_vhu_bench_SOURCES = \
	$(devtools_vhu_bench_SOURCES) \
	$(lib_libvhu_la_SOURCES)
tests_sanitized_vhu_bench_CFLAGS = $(AM_CFLAGS) $(SANITIZER_FLAGS)
tests_sanitized_vhu_bench_LDFLAGS = $(SANITIZER_FLAGS)
tests_sanitized_vhu_bench_LDADD = $(OVS_LIBOPENVSWITCH)
tests_sanitized_ovs_vhu_fuzz_replay_SOURCES = \
	$(tests_ovs_vhu_fuzz_replay_SOURCES) \
	$(lib_libvhu_la_SOURCES)
tests_sanitized_ovs_vhu_fuzz_replay_CPPFLAGS = \
	$(tests_ovs_vhu_fuzz_replay_CPPFLAGS)
tests_sanitized_ovs_vhu_fuzz_replay_CFLAGS = $(AM_CFLAGS) $(SANITIZER_FLAGS)
tests_sanitized_ovs_vhu_fuzz_replay_LDFLAGS = $(SANITIZER_FLAGS)
tests_sanitized_ovs_vhu_fuzz_replay_LDADD = $(OVS_LIBOPENVSWITCH)

check-sanitizers: $(TESTSUITE) tests/atlocal all $(check_PROGRAMS)
	VHU_VSWITCHD='$(abs_builddir)/tests/sanitized/ovs-vswitchd' \
	$(SHELL) '$(TESTSUITE)' -C tests \
		AUTOTEST_PATH='tests/netns:tests/sanitized:$(AUTOTEST_PATH)' \
		$(TESTSUITEFLAGS)
.PHONY: check-sanitizers

# "make fuzz": the fuzz targets for libFuzzer, one program per target in
# tests/fuzz/bin/, built with clang (FUZZ_CC) and its fuzzer, address and
# undefined behavior sanitizers, the engine included (so that its code is
# instrumented too) and Open vSwitch's library linked as the other test
# programs link it.  devtools/fuzz runs them.  Not part of "all":
# the project's compiler need not be clang.  Needs GNU make.
FUZZ_CC = clang
FUZZ_CFLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-g -O1 -fno-omit-frame-pointer -Wall -Wno-unused-parameter
FUZZ_COMPILE = $(FUZZ_CC) $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) \
	-I$(srcdir)/tests $(FUZZ_CFLAGS)
FUZZ_LIB_OBJS = $(patsubst lib/%.c,tests/fuzz/obj/lib-%.o, \
	$(filter %.c,$(lib_libvhu_la_SOURCES)))
FUZZ_DEPS = \
	$(filter %.h,$(lib_libvhu_la_SOURCES)) \
	tests/fuzz/fuzz.h \
	Makefile
FUZZ_EXES = $(FUZZ_TARGETS:%=tests/fuzz/bin/fuzz-%)

tests/fuzz/obj/lib-%.o: lib/%.c $(FUZZ_DEPS)
	@$(MKDIR_P) tests/fuzz/obj
	$(AM_V_CC)$(FUZZ_COMPILE) -c -o $@ $<
tests/fuzz/obj/fuzz-%.o: tests/fuzz/fuzz-%.c $(FUZZ_DEPS)
	@$(MKDIR_P) tests/fuzz/obj
	$(AM_V_CC)$(FUZZ_COMPILE) -c -o $@ $<
tests/fuzz/obj/main-%.o: tests/fuzz/fuzz-libfuzzer.c $(FUZZ_DEPS)
	@$(MKDIR_P) tests/fuzz/obj
	$(AM_V_CC)$(FUZZ_COMPILE) -DVHU_FUZZ_TARGET=vhu_fuzz_$(subst -,_,$*) \
		-c -o $@ $<
tests/fuzz/bin/fuzz-%: tests/fuzz/obj/fuzz-%.o tests/fuzz/obj/main-%.o \
		tests/fuzz/obj/fuzz-common.o $(FUZZ_LIB_OBJS)
	@$(MKDIR_P) tests/fuzz/bin
	$(AM_V_CCLD)$(LIBTOOL) $(AM_V_lt) --tag=CC --mode=link $(FUZZ_CC) \
		$(FUZZ_CFLAGS) -o $@ $^ $(OVS_LIBOPENVSWITCH) $(LIBS)
fuzz: $(FUZZ_EXES)
.PHONY: fuzz
.PRECIOUS: tests/fuzz/obj/lib-%.o tests/fuzz/obj/fuzz-%.o \
	tests/fuzz/obj/main-%.o

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/obj tests/fuzz/bin
.PHONY: clean-fuzz
