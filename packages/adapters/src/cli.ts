/** @internal */ export {};
