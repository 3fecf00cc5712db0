// The admin key, for this tab only: sessionStorage, gone when the tab closes or on sign-out. It
// is sent only as `Authorization: Bearer`, never put in a URL or a cookie.

const KEY = 'identity-console.admin-key'

/** Returns the stored admin key, or null when signed out. */
export const readKey = (): string | null => sessionStorage.getItem(KEY)

/** Keeps `key` for this tab. */
export const storeKey = (key: string): void => sessionStorage.setItem(KEY, key)

/** Forgets the key. */
export const forgetKey = (): void => sessionStorage.removeItem(KEY)
