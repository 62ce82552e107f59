# Operator tools and the quick start.
noinst_SCRIPTS = \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-bench-compare \
	utilities/ovs-vhu-switch-compare \
	utilities/ovs-vhu-benchmark \
	utilities/ovs-vhu-soak \
	utilities/ovs-vhu-fuzz \
	utilities/ovs-vhu-burst-cost
CLEANFILES += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-bench-compare \
	utilities/ovs-vhu-switch-compare \
	utilities/ovs-vhu-benchmark \
	utilities/ovs-vhu-soak \
	utilities/ovs-vhu-fuzz \
	utilities/ovs-vhu-burst-cost
EXTRA_DIST += \
	utilities/ovs-vhu-burst-cost.c \
	utilities/ovs-vhu-burst-cost.in \
	utilities/ovs-vhu-benchmark.in \
	utilities/ovs-vhu-soak.in \
	utilities/ovs-vhu-fuzz.in \
	utilities/ovs-vhu-bench-compare.in \
	utilities/ovs-vhu-switch-compare.in \
	utilities/ovs-vhu-sandbox.in \
	utilities/quickstart

# The sandbox runs the programs of this build tree: ours and those of the
# Open vSwitch build we compiled against.
utilities/ovs-vhu-sandbox: utilities/ovs-vhu-sandbox.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    -e 's|[@]OVS_BUILDDIR[@]|$(OVS_BUILDDIR)|g' \
	    -e 's|[@]OVS_SRCDIR[@]|$(OVS_SRCDIR)|g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/utilities/ovs-vhu-sandbox.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# The engine alone against a frontend: what the benchmarks measure.
bin_PROGRAMS += utilities/ovs-vhu-bench
utilities_ovs_vhu_bench_SOURCES = utilities/ovs-vhu-bench.c
utilities_ovs_vhu_bench_LDADD = lib/libvhu.la $(OVS_LIBOPENVSWITCH)
dist_man_MANS += utilities/ovs-vhu-bench.1

# The benchmarks beside DPDK's vhost backend and beside OVS-DPDK, the one
# that runs them all, and the soak (reconnects and restarts).
utilities/ovs-vhu-bench-compare utilities/ovs-vhu-switch-compare \
utilities/ovs-vhu-benchmark utilities/ovs-vhu-soak: %: %.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# The fuzz targets under libFuzzer, for a given time each (tests/fuzz/,
# "make fuzz").
utilities/ovs-vhu-fuzz: utilities/ovs-vhu-fuzz.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    -e 's|[@]abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# Instructions per packet of the bursts beside another build's, under
# callgrind: the harness is compiled by the script, against each build.
utilities/ovs-vhu-burst-cost: utilities/ovs-vhu-burst-cost.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    -e 's|[@]abs_top_srcdir[@]|$(abs_top_srcdir)|g' \
	    -e 's|[@]OVS_SRCDIR[@]|$(OVS_SRCDIR)|g' \
	    -e 's|[@]OVS_BUILDDIR[@]|$(OVS_BUILDDIR)|g' \
	    -e 's|[@]CC[@]|$(CC)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
