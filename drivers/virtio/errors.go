package virtio

import "errors"

// Errors reported by the transport and queues.
var (
	ErrNoCapability    = errors.New("virtio: device lacks a required virtio PCI capability")
	ErrBadCapability   = errors.New("virtio: capability points outside its BAR")
	ErrNoVersion1      = errors.New("virtio: device does not offer VIRTIO_F_VERSION_1")
	ErrFeaturesRefused = errors.New("virtio: device refused the negotiated features (FEATURES_OK not kept)")
	ErrNoQueue         = errors.New("virtio: queue not available")
	ErrQueueFull       = errors.New("virtio: not enough free descriptors")
	ErrNoVector        = errors.New("virtio: device refused the MSI-X vector")
	ErrResetTimeout    = errors.New("virtio: device did not complete reset")
)
