package dev.skiff.share;
public class ShareGroupCompat { public static void main(String[] a) {} }
