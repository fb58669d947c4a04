/* PLACEHOLDER: image-format/version */
