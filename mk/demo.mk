# make demo: the README's main job (contrib/demo.sh).
.PHONY: demo
demo: $(PROGRAMS)
	sh contrib/demo.sh $(BUILD)
