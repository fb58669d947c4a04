/* PLACEHOLDER: image-format/feed */
