/* PLACEHOLDER: image-format/image */
