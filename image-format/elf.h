/* PLACEHOLDER: image-format/elf */
