# make bench-smtp: the daemon's SMTP throughput against Postfix's smtp-sink,
# with smtp-source (the ceiling) and a curl-per-message loop (the baseline)
# beside it; BENCH_BASE=DIR adds another build's daemon to each round (a
# baseline). See tests/bench/bench-smtp.py. Postfix is needed only for its
# two test programs; as root it is installed ("No configuration": no mail
# system is set up and no postfix daemon runs).

.PHONY: bench-smtp bench-smtp-deps

bench-smtp-deps:
	@if [ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/smtp-source ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix curl; \
	else \
		echo "bench-smtp needs smtp-sink and smtp-source; as root run: apt-get install postfix"; exit 1; \
	fi

bench-smtp: $(PROGRAMS) bench-smtp-deps
	$(PYTHON) tests/bench/bench-smtp.py $(BUILD)
