package servicedesk

// As is the escape hatch to what only one desk has (the go-cloud way): it
// asks desk, and every desk it wraps (see Unwrapper), to fill target, a
// pointer to a type the desk's kit documents in its "# As" section (the
// Amazon Connect contact, the Genesys guest session). It reports whether
// one did. A nil target, or a desk that documents nothing, answers false.
//
// A desk offers it by having the method As(target any) bool.
func As(desk ServiceDesk, target any) bool {
	if target == nil {
		return false
	}
	for desk != nil {
		if a, ok := desk.(interface{ As(target any) bool }); ok && a.As(target) {
			return true
		}
		u, ok := desk.(Unwrapper)
		if !ok {
			return false
		}
		desk = u.Unwrap()
	}
	return false
}
