/* PLACEHOLDER: image-format/manifest */
