// SPDX-License-Identifier: GPL-2.0
/*
 * keel.ko: the companion's side of keel's channel device.
 *
 * keel (a static-partitioning hypervisor) shows its companion partition one
 * PCI function, the channel device. This first version binds it, maps its
 * register window (BAR0) and checks the ABI version that keel reports; it
 * does nothing else yet. Queue kicks, call eventfds and the control
 * hypercalls come with the channel ABI.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "keel_abi.h"

/* the registers keel.ko reads: the ABI version only, for now */
#define KEEL_CHAN_REGS_MIN_LEN (KEEL_CHAN_REG_ABI_VERSION + 4)

struct keel_chan {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct keel_chan_shared *shared; /* BAR2, keel's pages */
	struct miscdevice misc;          /* /dev/keel, for keeld */
	u32 abi_version;
};

/*
 * BAR2 is memory keel shares with the companion (write-back RAM, not
 * registers): map it as such and check what keel put there.
 */
static int keel_map_shared(struct keel_chan *chan)
{
	struct pci_dev *pdev = chan->pdev;
	struct keel_chan_shared *sh;
	int ret;

	if (pci_resource_len(pdev, KEEL_CHAN_SHARED_BAR) < sizeof(*sh)) {
		pr_err("%s: BAR2 is smaller than the shared window (%zu bytes)\n",
		       pci_name(pdev), sizeof(*sh));
		return -ENODEV;
	}
	ret = pci_request_region(pdev, KEEL_CHAN_SHARED_BAR, KBUILD_MODNAME);
	if (ret) {
		pr_err("%s: BAR2 is busy (%d)\n", pci_name(pdev), ret);
		return ret;
	}
	sh = memremap(pci_resource_start(pdev, KEEL_CHAN_SHARED_BAR),
		      sizeof(*sh), MEMREMAP_WB);
	if (!sh) {
		pr_err("%s: cannot map BAR2\n", pci_name(pdev));
		ret = -ENOMEM;
		goto err_release;
	}
	if (sh->magic != KEEL_CHAN_MAGIC ||
	    sh->abi_version != KEEL_CHAN_ABI_VERSION) {
		pr_err("%s: BAR2 holds no keel channel window (magic %#x, version %u)\n",
		       pci_name(pdev), sh->magic, sh->abi_version);
		ret = -ENODEV;
		goto err_unmap;
	}
	pr_info("%s: guest disk: %u request queue(s) of %u, wwpn %.*s, %.*s %.*s; guest RAM at %#llx, %llu MiB\n",
		pci_name(pdev), sh->disk_queues, sh->disk_queue_size,
		(int)sizeof(sh->disk_wwpn), sh->disk_wwpn,
		(int)sizeof(sh->disk_backstore), sh->disk_backstore,
		(int)sizeof(sh->disk_path), sh->disk_path,
		(unsigned long long)sh->guest_ram_phys,
		(unsigned long long)sh->guest_ram_size >> 20);
	chan->shared = sh;
	return 0;

err_unmap:
	memunmap(sh);
err_release:
	pci_release_region(pdev, KEEL_CHAN_SHARED_BAR);
	return ret;
}

/* The bound channel: keel shows its companion one. */
static DEFINE_MUTEX(keel_lock);
static struct keel_chan *keel_bound;

/* read(2) on /dev/keel: the shared window, which keeld parses. */
static ssize_t keel_read(struct file *file, char __user *buf, size_t len,
			 loff_t *pos)
{
	ssize_t ret = -ENODEV;

	mutex_lock(&keel_lock);
	if (keel_bound)
		ret = simple_read_from_buffer(buf, len, pos, keel_bound->shared,
					      sizeof(*keel_bound->shared));
	mutex_unlock(&keel_lock);
	return ret;
}

static const struct file_operations keel_fops = {
	.owner = THIS_MODULE,
	.read = keel_read,
	.llseek = default_llseek,
};

static int keel_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct keel_chan *chan;
	int ret;

	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < KEEL_CHAN_REGS_MIN_LEN) {
		pr_err("%s: BAR0 is not a memory window of at least %u bytes\n",
		       pci_name(pdev), KEEL_CHAN_REGS_MIN_LEN);
		return -ENODEV;
	}

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	chan->pdev = pdev;

	ret = pci_enable_device_mem(pdev);
	if (ret) {
		pr_err("%s: cannot enable the device (%d)\n", pci_name(pdev), ret);
		goto err_free;
	}

	ret = pci_request_region(pdev, 0, KBUILD_MODNAME);
	if (ret) {
		pr_err("%s: BAR0 is busy (%d)\n", pci_name(pdev), ret);
		goto err_disable;
	}

	chan->regs = pci_iomap(pdev, 0, 0);
	if (!chan->regs) {
		pr_err("%s: cannot map BAR0\n", pci_name(pdev));
		ret = -ENOMEM;
		goto err_release;
	}

	chan->abi_version = ioread32(chan->regs + KEEL_CHAN_REG_ABI_VERSION);
	pr_info("channel ABI version %u, device %s, BAR0 %pR\n",
		chan->abi_version, pci_name(pdev), &pdev->resource[0]);
	if (chan->abi_version != KEEL_CHAN_ABI_VERSION) {
		pr_err("%s: channel ABI version %u is not supported (this module speaks version %u); not binding\n",
		       pci_name(pdev), chan->abi_version, KEEL_CHAN_ABI_VERSION);
		ret = -ENODEV;
		goto err_unmap;
	}

	ret = keel_map_shared(chan);
	if (ret)
		goto err_unmap;

	mutex_lock(&keel_lock);
	if (keel_bound) {
		mutex_unlock(&keel_lock);
		pr_err("%s: a channel device is already bound\n", pci_name(pdev));
		ret = -EBUSY;
		goto err_shared;
	}
	chan->misc = (struct miscdevice){
		.minor = MISC_DYNAMIC_MINOR,
		.name = "keel",
		.fops = &keel_fops,
		.mode = 0600,
	};
	ret = misc_register(&chan->misc);
	if (ret) {
		mutex_unlock(&keel_lock);
		pr_err("%s: cannot register /dev/keel (%d)\n", pci_name(pdev), ret);
		goto err_shared;
	}
	keel_bound = chan;
	mutex_unlock(&keel_lock);

	pci_set_drvdata(pdev, chan);
	pr_info("%s: channel device bound, /dev/keel ready\n", pci_name(pdev));
	return 0;

err_shared:
	memunmap(chan->shared);
	pci_release_region(pdev, KEEL_CHAN_SHARED_BAR);

err_unmap:
	pci_iounmap(pdev, chan->regs);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(chan);
	return ret;
}

static void keel_remove(struct pci_dev *pdev)
{
	struct keel_chan *chan = pci_get_drvdata(pdev);

	mutex_lock(&keel_lock);
	misc_deregister(&chan->misc);
	keel_bound = NULL;
	mutex_unlock(&keel_lock);
	memunmap(chan->shared);
	pci_release_region(pdev, KEEL_CHAN_SHARED_BAR);
	pci_iounmap(pdev, chan->regs);
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
	kfree(chan);
	pr_info("%s: channel device released\n", pci_name(pdev));
}

static const struct pci_device_id keel_pci_ids[] = {
	{ PCI_DEVICE(KEEL_CHAN_VENDOR_ID, KEEL_CHAN_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, keel_pci_ids);

static struct pci_driver keel_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = keel_pci_ids,
	.probe = keel_probe,
	.remove = keel_remove,
};

static int __init keel_init(void)
{
	int ret;

	ret = pci_register_driver(&keel_pci_driver);
	if (ret) {
		pr_err("cannot register the PCI driver (%d)\n", ret);
		return ret;
	}
	pr_info("module loaded, waiting for keel's channel device\n");
	return 0;
}

static void __exit keel_exit(void)
{
	pci_unregister_driver(&keel_pci_driver);
	pr_info("module unloaded\n");
}

module_init(keel_init);
module_exit(keel_exit);

MODULE_DESCRIPTION("keel hypervisor channel device (companion side)");
MODULE_AUTHOR("keel developers");
MODULE_LICENSE("GPL");
