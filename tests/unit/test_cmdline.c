// SPDX-License-Identifier: GPL-2.0
/* keel's command-line options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/cmdline.h"

static void test_finds_value(void **state)
{
	(void)state;
	char v[16];

	assert_true(cmdline_get("/boot/keel.elf exit=emulator", "exit", v,
				sizeof(v)));
	assert_string_equal(v, "emulator");
	assert_true(cmdline_get("  a=1   exit=x  b=2", "exit", v, sizeof(v)));
	assert_string_equal(v, "x");
}

static void test_absent_or_prefix_only(void **state)
{
	(void)state;
	char v[16];

	assert_false(cmdline_get("", "exit", v, sizeof(v)));
	assert_false(cmdline_get("exit", "exit", v, sizeof(v)));
	assert_false(cmdline_get("exitcode=3 myexit=2", "exit", v, sizeof(v)));
}

static void test_empty_value(void **state)
{
	(void)state;
	char v[16] = "unchanged";

	assert_true(cmdline_get("exit= x", "exit", v, sizeof(v)));
	assert_string_equal(v, "");
}

static void test_value_too_long(void **state)
{
	(void)state;
	char v[4];

	assert_false(cmdline_get("exit=emulator", "exit", v, sizeof(v)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_value),
		cmocka_unit_test(test_absent_or_prefix_only),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_value_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
