/* PLACEHOLDER: image-format/select */
