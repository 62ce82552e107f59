# What operators run: the quick start, the sandbox (the quick start's
# demo) and the soak, installed with their man pages and the shell library
# that they and the scripts of devtools/ source.
noinst_SCRIPTS += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak
sbin_SCRIPTS += \
	utilities/installed/ovs-vhu-sandbox \
	utilities/installed/ovs-vhu-soak
CLEANFILES += \
	utilities/ovs-vhu-sandbox \
	utilities/ovs-vhu-soak \
	utilities/installed/ovs-vhu-sandbox \
	utilities/installed/ovs-vhu-soak
dist_pkgdata_DATA = utilities/ovs-vhu-lib.sh
dist_man_MANS += \
	utilities/ovs-vhu-sandbox.8 \
	utilities/ovs-vhu-soak.8
EXTRA_DIST += \
	utilities/ovs-vhu-soak.in \
	utilities/ovs-vhu-sandbox.in \
	utilities/quickstart

# The sandbox and the soak, as this build tree runs them (the quick start
# and the system tests): this tree's ovs-vswitchd and shell library, the
# tools and schema of the Open vSwitch build we compiled against.
utilities/ovs-vhu-sandbox utilities/ovs-vhu-soak: %: %.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities && \
	sed -e 's|[@]VHU_VSWITCHD[@]|$(abs_top_builddir)/vswitchd-plugin/ovs-vswitchd|g' \
	    -e 's|[@]VHU_PKGDATADIR[@]|$(abs_top_srcdir)/utilities|g' \
	    -e 's|[@]OVS_BINDIRS[@]|$(OVS_BUILDDIR)/ovsdb:$(OVS_BUILDDIR)/utilities|g' \
	    -e 's|[@]OVS_SCHEMA[@]|$(OVS_SRCDIR)/vswitchd/vswitch.ovsschema|g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/$@.in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# The same two for "make install", which installs them under their own
# names: the installed ovs-vswitchd-vhu and library, and the system's Open
# vSwitch (its tools from the PATH, its schema from $OVS_PKGDATADIR or
# /usr/share/openvswitch).
utilities/installed/ovs-vhu-sandbox utilities/installed/ovs-vhu-soak: \
		utilities/installed/%: utilities/%.in Makefile
	$(AM_V_GEN)$(MKDIR_P) utilities/installed && \
	sed -e 's|[@]VHU_VSWITCHD[@]|$(sbindir)/ovs-vswitchd-vhu|g' \
	    -e 's|[@]VHU_PKGDATADIR[@]|$(pkgdatadir)|g' \
	    -e 's|[@]OVS_BINDIRS[@]||g' \
	    -e 's|[@]OVS_SCHEMA[@]||g' \
	    -e 's|[@]PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/utilities/$(@F).in > $@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@

# "make installcheck": the installed sandbox and soak find the installed
# library (they read it before their options) and look into no build or
# source tree.
installcheck-local: installcheck-vhu-utilities
installcheck-vhu-utilities:
	@set -e; for s in ovs-vhu-sandbox ovs-vhu-soak; do \
	  echo " checking the installed $$s"; \
	  '$(DESTDIR)$(sbindir)/'$$s --version \
	    | grep -x "$$s (ovs-vhu) $(PACKAGE_VERSION)"; \
	  if grep -n -e '$(abs_top_builddir)/' -e '$(abs_top_srcdir)/utilities' \
	       -e '$(OVS_BUILDDIR)/' -e '$(OVS_SRCDIR)/' \
	       '$(DESTDIR)$(sbindir)/'$$s; then \
	    echo "$$s refers to a build or source tree" >&2; exit 1; \
	  fi; \
	done
.PHONY: installcheck-vhu-utilities
