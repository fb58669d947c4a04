/* PLACEHOLDER: signing/minisign */
