# Message rendering: the built-in templates are compiled into the program
# from conf/templates. The generated C file is committed (so a build needs
# no generator), and regenerated whenever a template changes.

TEMPLATE_FILES := $(filter-out %/README,$(sort $(wildcard conf/templates/*/*)))

daemon/templates-builtin.c: $(TEMPLATE_FILES) tools/gen-templates.sh
	sh tools/gen-templates.sh conf/templates $@

.PHONY: templates
templates:
	sh tools/gen-templates.sh conf/templates daemon/templates-builtin.c

# tests/integration/test_message_format.py drives this unit test binary.
check-integration: $(BUILD)/tests/test-mail
