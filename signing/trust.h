/* PLACEHOLDER: signing/trust */
