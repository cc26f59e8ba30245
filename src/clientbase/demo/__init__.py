"""The deterministic synthetic demo business."""
