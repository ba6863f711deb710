// SPDX-License-Identifier: GPL-2.0
/* VT-x capability decoding and the verdicts keel prints from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/vmx_caps.h"

#define A1(bit) (1ull << (32 + (bit)))

/* what Bochs' corei7_skylake_x reports, reduced to the bits keel reads */
static struct vmx_raw skylake(void)
{
	return (struct vmx_raw){
		.cpuid1_ecx = 1u << 5,
		.feature_control = FEATURE_CONTROL_LOCKED |
				   FEATURE_CONTROL_VMX_OUTSIDE_SMX,
		.basic = (1ull << 55) | (0x1000ull << 32) | 1,
		.pinbased = A1(6),
		.procbased = A1(31),
		.procbased2 = A1(0) | A1(1) | A1(5) | A1(7) | A1(8) | A1(9) |
			      A1(17),
		.ept_vpid = (1ull << 6) | (1ull << 14) | (1ull << 16) |
			    (1ull << 17) | (1ull << 21),
	};
}

static void check(const struct vmx_raw *raw, int want, const char *substr)
{
	struct vmx_caps caps;
	char err[320];

	vmx_caps_decode(raw, &caps);
	assert_int_equal(vmx_caps_check(&caps, err, sizeof(err)), want);
	if (substr)
		assert_non_null(strstr(err, substr));
}

static void describe(const struct vmx_raw *raw, const char *substr)
{
	struct vmx_caps caps;
	char line[320];

	vmx_caps_decode(raw, &caps);
	vmx_caps_describe(&caps, line, sizeof(line));
	assert_non_null(strstr(line, substr));
}

static void test_skylake_passes(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	check(&r, 0, NULL);
	describe(&r, "vmx: EPT yes (2M yes, 1G yes), unrestricted guest yes, "
		     "VPID yes, EPT A/D yes, PML yes, preemption timer yes, "
		     "APIC virtualization yes (register yes, interrupt "
		     "delivery yes, posted no)");
}

static void test_sandy_bridge_passes_without_ad_pml(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.procbased2 &= ~(A1(8) | A1(9) | A1(17));
	r.ept_vpid &= ~(1ull << 21);
	check(&r, 0, NULL);
	describe(&r, "EPT A/D no, PML no");
	describe(&r, "register no, interrupt delivery no");
}

static void test_no_vmx_names_cpuid_and_qemu(void **state)
{
	(void)state;
	struct vmx_raw r = { .cpuid1_ecx = 0 };

	check(&r, -1, "VT-x not available: CPUID.1:ECX.VMX is 0");
	check(&r, -1, "QEMU TCG cannot emulate it");
}

static void test_locked_off_by_firmware(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.feature_control = FEATURE_CONTROL_LOCKED;
	check(&r, -1, "disabled by firmware: IA32_FEATURE_CONTROL is locked");
}

static void test_unlocked_feature_control_is_fine(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.feature_control = 0;
	check(&r, 0, NULL);
}

static void test_missing_ept_lists_everything(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.procbased2 &= ~(A1(1) | A1(7));
	check(&r, -1, "VT-x lacks what keel needs: EPT, 4-level EPT, "
		      "write-back EPT, unrestricted guest");
}

static void test_missing_secondary_and_true_controls(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.basic &= ~(1ull << 55);
	r.procbased = 0;
	check(&r, -1, "TRUE control MSRs, secondary processor controls, EPT");
}

static void test_ept_without_write_back(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();

	r.ept_vpid &= ~(1ull << 14);
	check(&r, -1, "lacks what keel needs: write-back EPT");
}

static void test_message_fits_small_buffer(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();
	struct vmx_caps caps;
	char err[24];

	r.basic = 0;
	r.procbased = 0;
	vmx_caps_decode(&r, &caps);
	memset(err, 'x', sizeof(err));
	assert_int_equal(vmx_caps_check(&caps, err, 16), -1);
	assert_int_equal(strlen(err), 15);
	assert_int_equal(err[16], 'x');
}

static void test_revision_and_size(void **state)
{
	(void)state;
	struct vmx_raw r = skylake();
	struct vmx_caps caps;

	vmx_caps_decode(&r, &caps);
	assert_int_equal(caps.vmcs_revision, 1);
	assert_int_equal(caps.vmcs_size, 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skylake_passes),
		cmocka_unit_test(test_sandy_bridge_passes_without_ad_pml),
		cmocka_unit_test(test_no_vmx_names_cpuid_and_qemu),
		cmocka_unit_test(test_locked_off_by_firmware),
		cmocka_unit_test(test_unlocked_feature_control_is_fine),
		cmocka_unit_test(test_missing_ept_lists_everything),
		cmocka_unit_test(test_missing_secondary_and_true_controls),
		cmocka_unit_test(test_ept_without_write_back),
		cmocka_unit_test(test_message_fits_small_buffer),
		cmocka_unit_test(test_revision_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
