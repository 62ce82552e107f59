# What only developers run, beside the build (devtools/README.md): the
# engine alone, the comparisons with DPDK's vhost backend and with
# OVS-DPDK, the burst cost beside another build, the fuzz driver.  None of
# it is installed.  The scripts are made from their .in files with the
# paths of this build tree.
DEVTOOLS_GENERATED = \
	devtools/all-vs-references \
	devtools/burst-cost-vs-build \
	devtools/engine-vs-dpdk-vhost \
	devtools/fuzz \
	devtools/switch-vs-ovs-dpdk
noinst_SCRIPTS += $(DEVTOOLS_GENERATED)
CLEANFILES += $(DEVTOOLS_GENERATED)
EXTRA_DIST += \
	$(DEVTOOLS_GENERATED:=.in) \
	devtools/README.md \
	devtools/burst-cost-harness.c \
	devtools/vhu-bench.1

$(DEVTOOLS_GENERATED): %: %.in Makefile
	$(AM_V_GEN)$(MKDIR_P) devtools && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    -e 's|[@]abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    -e 's|[@]OVS_SRCDIR[@]|$(OVS_SRCDIR)|g' \
	    -e 's|[@]OVS_BUILDDIR[@]|$(OVS_BUILDDIR)|g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    -e 's|[@]CC[@]|$(CC)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# The engine alone against a frontend: what the benchmarks and the bench
# tests measure.  Its man page is read in the tree: man -l devtools/vhu-bench.1
noinst_PROGRAMS += devtools/vhu-bench
devtools_vhu_bench_SOURCES = devtools/vhu-bench.c
devtools_vhu_bench_LDADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)
