# What operators run: the quick start and the sandbox, the quick start's
# demo, and the soak.
noinst_SCRIPTS += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak
CLEANFILES += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak
EXTRA_DIST += \
	utilities/ovs-vhu-lib.sh \
	utilities/ovs-vhu-soak.in \
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

# The soak (reconnects and restarts).
utilities/ovs-vhu-soak: utilities/ovs-vhu-soak.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]abs_top_builddir[@]|$(abs_top_builddir)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
