/* PLACEHOLDER: image-format/ustar */
