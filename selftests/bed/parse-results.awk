# SPDX-License-Identifier: GPL-2.0
#
# Count kselftest TAP results in a results log written by run-tests.
# Prints "PASS FAIL SKIP" on the last line; every problem (a failed test, a
# test binary that crashed, hung or printed fewer results than its plan, a
# binary that never ran) on a line of its own before it.
#
# Variables: expected="name name ..." (the tests that must have run).
#
# A failed test's line comes with the last comment lines it printed (its
# assertion messages), so a CI log's tail says why it failed.

BEGIN { CONTEXT = 8 }

function close_test() {
	if (cur == "")
		return
	if (!ended) {
		print "  " cur ": no end marker (the VM died or hung in it)"
		fail++
	} else if (plan < 0) {
		print "  " cur ": no TAP plan (rc=" rc ")"
		fail++
	} else if (results != plan) {
		print "  " cur ": " results " results for a plan of " plan " (rc=" rc ")"
		fail += plan - results > 0 ? plan - results : 1
	} else if (rc != 0 && tfail == 0) {
		print "  " cur ": exited with rc=" rc " without a failed test"
		fail++
	}
	cur = ""
}

# The serial line ends lines with CRLF.
{ sub(/\r$/, "") }

/^# KVMMIG-SETUP-FAILED/ {
	print "  setup failed to load:" substr($0, 22)
	fail++
}
/^# KVMMIG-BEGIN / {
	close_test()
	cur = $3; ran[cur] = 1
	plan = -1; results = 0; tfail = 0; ended = 0; rc = -1; nctx = 0
	next
}
/^# KVMMIG-END / {
	sub(/^rc=/, "", $4); rc = $4; ended = 1
	next
}
/^# KVMMIG-DONE/ { close_test(); done = 1 }
cur != "" && /^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0 }
cur != "" && /^# / && !/^# +(RUN|OK|FAIL) / {
	ctx[nctx % CONTEXT] = $0
	nctx++
}
cur != "" && /^ok [0-9]+ / {
	results++
	if ($0 ~ /# SKIP/) skip++; else pass++
	nctx = 0
}
cur != "" && /^not ok [0-9]+ / {
	results++
	if ($0 ~ /# SKIP/) {
		skip++
	} else {
		fail++; tfail++; print "  " cur ": " $0
		for (i = nctx > CONTEXT ? nctx - CONTEXT : 0; i < nctx; i++)
			print "      " ctx[i % CONTEXT]
	}
	nctx = 0
}
END {
	close_test()
	n = split(expected, want, " ")
	for (i = 1; i <= n; i++)
		if (!(want[i] in ran)) {
			print "  " want[i] ": never ran"
			fail++
		}
	if (!done) {
		print "  the VM never reached the end of the test run"
		fail++
	}
	print pass + 0, fail + 0, skip + 0
}
