// The part of `qrcode` (which ships no types) the sign-in page uses.
declare module "qrcode" {
  const qrcode: {
    toString(text: string, options: { type: "svg"; margin?: number; width?: number }): Promise<string>;
  };
  export default qrcode;
}
