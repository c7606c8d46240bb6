/* shim_blob.S - embeds the assembled shim (build/shim.bin) into kvmse. */
	.section .rodata
	.globl kvm_shim_blob, kvm_shim_blob_end
	.balign 16
kvm_shim_blob:
	.incbin SHIM_BIN
kvm_shim_blob_end:
	.section .note.GNU-stack,"",@progbits
