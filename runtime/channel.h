/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's channel device: the PCI function keel adds to the companion's bus
 * 0, through which the companion (keel.ko) will serve the guest's disk.
 * It presents its identity, a register window (BAR0, whose first register
 * is the channel ABI version) and a shared window (BAR2, keel's pages with
 * struct keel_chan_shared); keel follows both in the companion's EPT
 * wherever the companion's Linux places them.
 */
#ifndef KEEL_RUNTIME_CHANNEL_H
#define KEEL_RUNTIME_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch-x86_64/pci_cfg.h"
#include "vhost/keel_abi.h"

struct partition;

/* A BAR of the channel and what stands behind it in the companion's EPT. */
struct channel_bar {
	unsigned int index;
	uint64_t size;
	uint64_t hpa; /* keel's pages behind it, 0: its accesses exit to keel */
	uint64_t gpa; /* where it is mapped now, 0: nowhere */
};

struct channel_stats {
	uint64_t msis;       /* sent to the companion */
	uint64_t msi_off;    /* wanted, but the companion had MSI off */
	uint64_t msi_failed; /* its APIC did not accept the IPI */
};

struct channel {
	struct pci_cfg_space cfg;
	uint8_t devfn; /* on the companion's bus 0 */
	uint8_t msi_cap; /* offset of the MSI capability in cfg */
	struct channel_bar regs, shared;
	struct keel_chan_shared *sh; /* the shared window, keel's view */
	struct partition *part;
	struct channel_stats stats;
};

/* @shared_hpa: KEEL_CHAN_SHARED_SIZE bytes of keel's memory, already filled
 * in (struct keel_chan_shared). The device has one MSI vector, which keel
 * sends to the companion's CPU as a fixed IPI. */
void channel_init(struct channel *c, struct partition *companion,
		  uint8_t devfn, uint64_t shared_hpa);

/* Config space through the companion's 0xCF8/0xCFC: true when @addr (the
 * CONFIG_ADDRESS latch) names the channel; then @val is read or written. */
bool channel_cfg_access(struct channel *c, uint32_t addr, uint16_t port,
			unsigned int size, bool write, uint32_t *val);

/* A register access in BAR0; returns 0, or -1 when refused. */
int channel_mmio(struct channel *c, uint64_t gpa, unsigned int size,
		 bool write, uint64_t *val);

/*
 * What keel tells the companion. Each sets its part of the shared window,
 * then sends the channel's MSI. The caller serialises the device part
 * (channel_post, channel_ack); kicks and the guest state are atomic.
 */
void channel_kick(struct channel *c, unsigned int queue);
void channel_set_guest_state(struct channel *c, uint32_t state);
/* Posts a new device request (KEEL_REQ_*, KEEL_DEV_* flags) with its
 * queues; returns its number. */
uint32_t channel_post(struct channel *c, uint32_t request, uint32_t flags,
		      uint64_t features, const struct keel_chan_queue *queues,
		      unsigned int nr);
/* The companion answers request @n (ACK, or FAIL when @failed): 0 if it is
 * the current one (then recorded), else -KEEL_ESTALE. */
long channel_ack(struct channel *c, uint32_t n, bool failed);
/* The current request, its number and flags. */
uint32_t channel_request(const struct channel *c, uint32_t *n,
			 uint32_t *flags);
/* The queues' bases the companion replied for request @n: 0, or -1 when
 * its reply is for another request. */
int channel_reply_bases(const struct channel *c, uint32_t n,
			uint16_t base[KEEL_CHAN_MAX_QUEUES]);

#endif
